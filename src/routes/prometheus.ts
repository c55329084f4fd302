// GET /metrics: the Prometheus exposition of the fleet (dcgm-exporter and node_exporter names) and of Vigil itself.
import { Elysia } from "elysia";
import type { HeadContext } from "../head/context.ts";
import { EXPOSITION_CONTENT_TYPE } from "../metrics/exposition.ts";
import { renderMetrics } from "../metrics/registry.ts";
import { guard } from "./guard.ts";
import { doc } from "./openapi.ts";

/** Below this a gzip frame costs more than it saves. */
const GZIP_MIN_BYTES = 1024;

/** Whether Accept-Encoding lists gzip with a q-value above 0. */
export function acceptsGzip(header: string | null): boolean {
  for (const part of (header ?? "").split(",")) {
    const [coding, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    if (coding !== "gzip") continue;
    const q = params.find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

export function prometheusRoutes(ctx: HeadContext) {
  return new Elysia({ name: "prometheus" }).use(guard(ctx)).get(
    "/metrics",
    async ({ request }) => {
      const text = await renderMetrics(ctx);
      const headers: Record<string, string> = {
        "content-type": EXPOSITION_CONTENT_TYPE,
        "cache-control": "no-store",
        vary: "Accept-Encoding",
      };
      // Prometheus always asks for gzip; a fleet of hundreds of GPUs is megabytes of repetitive label text.
      if (text.length >= GZIP_MIN_BYTES && acceptsGzip(request.headers.get("accept-encoding"))) {
        return new Response(Bun.gzipSync(new TextEncoder().encode(text)), { headers: { ...headers, "content-encoding": "gzip" } });
      }
      return new Response(text, { headers });
    },
    // Viewers (a session or a Bearer API token) by default; VIGIL_METRICS_PUBLIC=true for a scraper without a token.
    {
      access: ctx.config.metricsPublic ? "public" : "viewer",
      detail: doc({
        tag: "Prometheus",
        summary: "The fleet in the Prometheus text format, under dcgm-exporter's and node_exporter's names",
        description:
          "GPU series carry dcgm-exporter's names and labels (gpu, UUID, device, modelName, Hostname, pci_bus_id, DCGM_FI_DRIVER_VERSION) so its Grafana dashboards work unchanged; host series use node_exporter's names where one exists. Offline workers export only vigil_worker_up 0. gzip when asked. Public when VIGIL_METRICS_PUBLIC=true.",
        response: {
          description: "The exposition",
          contentType: "text/plain; version=0.0.4",
          example:
            '# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n# TYPE DCGM_FI_DEV_GPU_UTIL gauge\nDCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-5a1c9e0b-2f64-4d1e-9a7b-0c3e8f1d2a44",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-07",worker="gpu-07"} 97\n',
        },
      }),
    },
  );
}

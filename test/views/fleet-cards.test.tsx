// The fleet page's cards: threshold colours, N/A for what a GPU does not report, offline and stale workers, no-GPU reasons, escaping, filter and sort.
import Html from "@kitajs/html";
import { expect, test } from "bun:test";
import type { WorkerSummary } from "../../src/fleet/workers.ts";
import { FleetCards, FreeGpus, selectCards } from "../../views/partials/fleet-cards.tsx";
import { WorkerCard, type CardData } from "../../views/partials/worker-card.tsx";
import { makeGpu, makeSample } from "../fixtures/samples.ts";

const now = Date.parse("2026-11-23T10:00:00Z");

function card(name: string, over: Partial<WorkerSummary> = {}, gpus = [makeGpu(0)]): CardData {
  const sample = makeSample(1, { ts: new Date(now - 1000) });
  sample.gpus = gpus;
  return {
    worker: {
      id: name.length,
      name,
      kind: "remote",
      hostname: `${name}.lab`,
      status: "online",
      lastSeenAt: new Date(now - 1000).toISOString(),
      intervalSeconds: 1,
      gpuCount: gpus.length,
      createdAt: new Date(now - 86400_000).toISOString(),
      ...over,
    },
    sample,
    recent: [],
    simulated: false,
  };
}

const render = (c: CardData) => String(<WorkerCard {...c} now={now} />);

test("gauges are coloured by level: a hot GPU and nearly full VRAM are critical, the rest ok", () => {
  const html = render(
    card("w", {}, [makeGpu(0, { temperature: 90, memoryUsed: 80000, memoryTotal: 81559, utilization: 50, powerUsage: 300 })]),
  );
  expect(html).toContain('class="worker-card card-critical"');
  expect(html).toMatch(/class="gauge level-critical"[^>]*aria-label="Temp: 90 °C \(critical\)"/);
  expect(html).toMatch(/class="gauge level-critical"[^>]*aria-label="VRAM: 78.1 \/ 80 GiB \(critical\)"/);
  expect(html).toMatch(/class="gauge level-ok"[^>]*aria-label="Util: 50 %"/);
  expect(html).toContain('class="gauge-fill w50"');
});

test("a vital the GPU does not report is N/A, never 0", () => {
  const html = render(card("w", {}, [makeGpu(0, { temperature: null, powerUsage: null, utilization: null })]));
  expect(html).toMatch(/aria-label="Temp: N\/A"/);
  expect(html).toMatch(/aria-label="Power: N\/A"/);
  expect(html).toMatch(/aria-label="Util: N\/A"/);
  expect(html).not.toContain("0 °C");
});

test("an offline worker says since when and shows no numbers that look live; a late one is marked", () => {
  const off = render(card("w", { status: "offline", lastSeenAt: "2026-11-23T09:00:00.000Z" }));
  expect(off).toContain("Offline since 2026-11-23 09:00:00 UTC (1h ago)");
  expect(off).not.toContain("gauge");
  const late = render(card("w", { status: "stale", lastSeenAt: new Date(now - 40_000).toISOString() }));
  expect(late).toContain("Late: last sample 40s ago");
  expect(late).toContain("gauge");
});

test("a machine without GPUs says why", () => {
  const c = card("w", {}, []);
  c.sample!.gpuSource = "none";
  c.sample!.gpuError = "NVML: libnvidia-ml.so.1 not found; is the NVIDIA driver installed?";
  expect(render(c)).toContain("No GPU: NVML: libnvidia-ml.so.1 not found; is the NVIDIA driver installed?");
});

test("names and GPU models from agents are escaped", () => {
  const c = card("<img src=x onerror=alert(1)>", {}, [makeGpu(0, { name: '"><script>alert(1)</script>' })]);
  const html = String(<FleetCards cards={[c]} query={{ q: "", sort: "name" }} now={now} />);
  // Inside a double-quoted attribute (quotes escaped) "<" is inert; outside attributes nothing may open a tag.
  const outsideAttributes = html.replace(/="[^"]*"/g, '=""');
  expect(outsideAttributes).not.toContain("<img");
  expect(outsideAttributes).not.toContain("<script");
  expect(html).toContain(">&lt;img src=x onerror=alert(1)&gt;</a>");
  expect(html).toContain('title="&#34;><script>alert(1)</script>"');
  const free = String(
    <FreeGpus
      gpus={[
        {
          workerId: 1,
          worker: "<b>x</b>",
          index: 0,
          uuid: "u",
          name: "n",
          memoryFreeMiB: 1024,
          memoryTotalMiB: 2048,
          utilization: 0,
          temperature: 30,
          sampledAt: "",
        },
      ]}
      total={1}
    />,
  );
  expect(free).toContain("&lt;b&gt;x&lt;/b&gt; · GPU 0");
});

test("filter matches name, host and GPU model; sort by load puts the busiest first, problems-first puts offline first", () => {
  const idle = card("alpha", {}, [makeGpu(0, { utilization: 3 })]);
  const busy = card("beta-long", {}, [makeGpu(0, { utilization: 99, name: "NVIDIA A100-SXM4-80GB" })]);
  const gone = card("gamma", { status: "offline" });
  const all = [idle, busy, gone];
  expect(selectCards(all, { q: "a100", sort: "name" }).map((c) => c.worker.name)).toEqual(["beta-long"]);
  expect(selectCards(all, { q: "ALPHA.lab", sort: "name" }).map((c) => c.worker.name)).toEqual(["alpha"]);
  expect(
    selectCards(all, { q: "", sort: "load" })
      .map((c) => c.worker.name)
      .slice(0, 2),
  ).toEqual(["beta-long", "gamma"]);
  expect(selectCards(all, { q: "", sort: "status" }).map((c) => c.worker.name)[0]).toBe("gamma");
  expect(String(<FleetCards cards={all} query={{ q: "zzz", sort: "name" }} />)).toContain("No worker matches &quot;zzz&quot;.");
});

// JSON API for the fleet: workers, one worker in detail, the latest sample of each, and the GPUs free right now.
import { Elysia } from "elysia";
import { findWorker, listWorkers, workerInfo } from "../fleet/workers.ts";
import { decodeKey } from "./respond.ts";
import { freeGpus, workerGpus } from "../fleet/gpus.ts";
import { listRestarts } from "../fleet/restarts.ts";
import type { HeadContext } from "../head/context.ts";
import { guard } from "./guard.ts";
import { doc, EXAMPLE_SAMPLE, WORKER_ID_PARAMS } from "./openapi.ts";

const EXAMPLE_WORKER = {
  id: 7,
  name: "gpu-07",
  kind: "remote",
  hostname: "gpu-07.lab",
  status: "online",
  lastSeenAt: "2026-11-23T10:00:01.120Z",
  intervalSeconds: 1,
  gpuCount: 8,
  createdAt: "2026-11-02T09:14:55.000Z",
};

export function fleetApiRoutes(ctx: HeadContext) {
  return new Elysia({ name: "api-fleet", prefix: "/api/v1" })
    .use(guard(ctx))
    .get("/workers", async () => ({ workers: await listWorkers(ctx.database.db, ctx.latest.heardAt) }), {
      access: "viewer",
      detail: doc({
        tag: "Fleet",
        summary: "List every worker with its status",
        description:
          "Status comes from the last sample's arrival: `online` within 3 sampling intervals (at least 5 s), `stale` within 10 " +
          "(at least 60 s), then `offline`; `never-seen` before the first sample.",
        response: { description: "The workers, by name", example: { workers: [EXAMPLE_WORKER] } },
      }),
    })
    .get(
      "/workers/:id",
      async ({ params, set }) => {
        const key = decodeKey(params.id);
        const worker = findWorker(await listWorkers(ctx.database.db, ctx.latest.heardAt), key);
        if (!worker) {
          set.status = 404;
          return { error: `no worker with id or name "${key}"` };
        }
        const latest = ctx.latest.get(worker.id);
        const { info, services } = await workerInfo(ctx.database.db, worker.id);
        return {
          worker,
          info,
          services,
          connected: ctx.sessions.connected(worker.id),
          gpus: await workerGpus(ctx.database.db, worker.id),
          latest: latest ? { receivedAt: latest.receivedAt.toISOString(), sample: latest.sample } : null,
          restarts: await listRestarts(ctx.database.db, worker.id, 10),
        };
      },
      {
        access: "viewer",
        params: WORKER_ID_PARAMS,
        detail: doc({
          tag: "Fleet",
          summary: "One worker: static facts, its GPUs, its latest sample, its restartable services and recent restarts",
          description:
            "The worker by id or name. `info` holds the host's static facts (CPU model, cores, OS, kernel). `services` are the units " +
            "its agent's allow-list lets an admin restart (as the agent last said). `connected` says whether its agent holds a WebSocket " +
            "to this head now (restarts need that). `latest` is null until the first sample arrives. `restarts` are the 10 newest restart requests.",
          response: {
            description: "The worker",
            example: {
              worker: EXAMPLE_WORKER,
              info: { cpuModel: "AMD EPYC 9654 96-Core Processor", cpuCores: 192, os: "Ubuntu 22.04.4 LTS", kernel: "5.15.0-105-generic" },
              services: ["comfyui.service", "vllm.service"],
              connected: true,
              gpus: [
                {
                  id: 31,
                  workerId: 7,
                  index: 0,
                  uuid: "GPU-5c1a7e2e-0d7b-4f0c-9a51-3f1d2b6c8e90",
                  name: "NVIDIA H100 80GB HBM3",
                  memoryTotalMiB: 81559,
                  driverVersion: "580.65.06",
                  cudaVersion: "13.0",
                  pciBusId: "00000000:18:00.0",
                  serial: "1654321000",
                  computeCapability: "9.0",
                  migMode: false,
                  powerLimitDefaultW: 700,
                  maxSmClockMHz: 1980,
                  maxMemoryClockMHz: 2619,
                  maxGraphicsClockMHz: 1980,
                  firstSeenAt: "2026-11-02T09:20:12.000Z",
                  lastSeenAt: "2026-11-23T10:00:01.120Z",
                },
              ],
              latest: { receivedAt: "2026-11-23T10:00:01.120Z", sample: EXAMPLE_SAMPLE },
              restarts: [],
            },
          },
          errors: { 404: 'no worker with id or name "7"' },
        }),
      },
    )
    .get(
      "/gpus/free",
      async () => ({ gpus: freeGpus(await listWorkers(ctx.database.db, ctx.latest.heardAt), (id) => ctx.latest.get(id)) }),
      {
        access: "viewer",
        detail: doc({
          tag: "Fleet",
          summary: "GPUs idle right now, most free memory first",
          description:
            "What to look at before launching a job: from the latest sample of every online worker, the GPUs that are not lost, " +
            "nearly unused and hold almost no memory. Memory in MiB, temperature in °C.",
          response: {
            description: "Idle GPUs across the fleet",
            example: {
              gpus: [
                {
                  workerId: 7,
                  worker: "gpu-07",
                  index: 3,
                  uuid: "GPU-9e0b44d1-7a3c-4c55-8f2e-1b7d9c0a6f31",
                  name: "NVIDIA H100 80GB HBM3",
                  memoryFreeMiB: 81059,
                  memoryTotalMiB: 81559,
                  utilization: 0,
                  temperature: 34,
                  sampledAt: "2026-11-23T10:00:01.000Z",
                },
              ],
            },
          },
        }),
      },
    )
    .get(
      "/metrics/current",
      async () => {
        const workers = await listWorkers(ctx.database.db, ctx.latest.heardAt);
        return {
          workers: workers.map((w) => {
            const latest = ctx.latest.get(w.id);
            return {
              id: w.id,
              name: w.name,
              status: w.status,
              lastSeenAt: w.lastSeenAt,
              receivedAt: latest?.receivedAt.toISOString() ?? null,
              sample: latest?.sample ?? null,
            };
          }),
        };
      },
      {
        access: "viewer",
        detail: doc({
          tag: "Fleet",
          summary: "The latest sample of every worker",
          description:
            "One entry per worker: its status and the last sample it sent, as the agent sent it (null before the first). " +
            "GPU memory in MiB, host memory in bytes, power in W, temperature in °C; a value the device does not report is null.",
          response: {
            description: "Every worker's latest sample",
            example: {
              workers: [
                {
                  id: 7,
                  name: "gpu-07",
                  status: "online",
                  lastSeenAt: "2026-11-23T10:00:01.120Z",
                  receivedAt: "2026-11-23T10:00:01.120Z",
                  sample: EXAMPLE_SAMPLE,
                },
              ],
            },
          },
        }),
      },
    );
}

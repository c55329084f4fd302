// Regions of the worker page (status, host beside GPUs, processes, hardware, storage, restart progress), rendered by the page's own components.
import Html from "@kitajs/html";
import { dashboardThresholds } from "../../alerts/thresholds.ts";
import { workerGpus, type GpuRecord } from "../../fleet/gpus.ts";
import { listRestarts, type RestartRow } from "../../fleet/restarts.ts";
import { workerInfo } from "../../fleet/workers.ts";
import type { HeadContext } from "../../head/context.ts";
import type { Sample } from "../../protocol/sample.ts";
import { WorkerHardware } from "../../../views/partials/worker/hardware.tsx";
import { gpuChoices, resolveSelection, type WorkerRegionProps } from "../../../views/partials/worker/model.ts";
import { WorkerProcesses } from "../../../views/partials/worker/processes.tsx";
import { RestartStatus } from "../../../views/partials/worker/restarts.tsx";
import { WorkerStatus } from "../../../views/partials/worker/status.tsx";
import { WorkerStorage } from "../../../views/partials/worker/storage.tsx";
import { WorkerVitals } from "../../../views/partials/worker/vitals.tsx";
import type { Region, RenderContext, ViewRegions } from "../views.ts";

/** How many restarts the page lists. */
const RESTART_HISTORY = 10;

/** What the worker page (first paint) and its live regions read about one worker, besides its summary. */
export interface WorkerData {
  sample: Sample | null;
  gpus: GpuRecord[];
  restarts: RestartRow[];
  info: Record<string, unknown>;
  /** The units the agent's allow-list lets an admin restart, as it last said. */
  services: string[];
  connected: boolean;
}

export async function workerData(ctx: HeadContext, workerId: number): Promise<WorkerData> {
  const db = ctx.database.db;
  const [gpus, restarts, { info, services }] = await Promise.all([
    workerGpus(db, workerId),
    listRestarts(db, workerId, RESTART_HISTORY),
    workerInfo(db, workerId),
  ]);
  return {
    sample: ctx.latest.get(workerId)?.sample ?? null,
    gpus,
    restarts,
    info,
    services,
    connected: ctx.sessions.connected(workerId),
  };
}

/** Per tick and worker, the data is read once however many of its regions are stale. */
const perTick = new WeakMap<RenderContext, Map<number, Promise<WorkerData>>>();

function dataOf(rc: RenderContext, workerId: number): Promise<WorkerData> {
  let m = perTick.get(rc);
  if (!m) perTick.set(rc, (m = new Map()));
  let p = m.get(workerId);
  if (!p) m.set(workerId, (p = workerData(rc.head, workerId)));
  return p;
}

/** The props every worker region renders from; undefined when the worker is gone (the region then renders nothing new). */
async function propsOf(rc: RenderContext, workerId: number, gpu: string | undefined): Promise<WorkerRegionProps | undefined> {
  const worker = (await rc.workers()).find((w) => w.id === workerId);
  if (!worker) return undefined;
  const data = await dataOf(rc, workerId);
  const { selection } = resolveSelection(gpu, gpuChoices(data.sample, data.gpus));
  return {
    worker,
    sample: data.sample,
    gpus: data.gpus,
    restarts: data.restarts,
    thresholds: dashboardThresholds(rc.head.alerts.rules, workerId),
    now: rc.now,
    selection,
  };
}

function region(
  id: string,
  workerId: number,
  gpu: string | undefined,
  on: Region["on"],
  render: (p: WorkerRegionProps) => JSX.Element,
): Region {
  return {
    id,
    on,
    workerId,
    render: async (rc) => {
      const p = await propsOf(rc, workerId, gpu);
      return p ? render(p) : "";
    },
  };
}

/** The worker page's regions for a worker and the page's GPU selection (`?gpu=`: an index, `all`, or none for the first). */
export function workerRegions(workerId: number, gpu: string | undefined): Region[] {
  return [
    region("worker-status", workerId, gpu, ["sample", "workers", "clock"], (p) => <WorkerStatus {...p} />),
    region("worker-vitals", workerId, gpu, ["sample", "workers"], (p) => <WorkerVitals {...p} />),
    region("worker-processes", workerId, gpu, ["sample"], (p) => <WorkerProcesses {...p} />),
    region("worker-hardware", workerId, gpu, ["sample"], (p) => <WorkerHardware {...p} />),
    region("worker-storage", workerId, gpu, ["sample"], (p) => <WorkerStorage {...p} />),
    region("restart-status", workerId, gpu, ["restart", "clock"], (p) => <RestartStatus restarts={p.restarts} now={p.now} />),
  ];
}

/** The live view of a worker page: "worker:<id>" or "worker:<id>:<gpu>" with gpu an index or "all". */
export function workerPageView(regions: (workerId: number, gpu: string | undefined) => readonly Region[]): ViewRegions {
  return (param) => {
    const m = param === undefined ? null : /^([1-9]\d{0,9})(?::(all|\d{1,4}))?$/.exec(param);
    return m ? regions(Number(m[1]), m[2]) : undefined;
  };
}

/** The view name a worker page streams, so its regions keep the page's GPU selection. */
export function workerViewName(workerId: number, gpu: string | null): string {
  const g = (gpu ?? "").trim();
  return g === "all" || /^\d{1,4}$/.test(g) ? `worker:${workerId}:${g}` : `worker:${workerId}`;
}

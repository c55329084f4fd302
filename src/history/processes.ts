// Who held each GPU over a range: per-process GPU memory records grouped by process (first and last seen, peak and mean memory).
import type { Database } from "../db/client.ts";
import type { GpuRef } from "./params.ts";

export interface ProcessRecord {
  gpu: number;
  uuid: string;
  pid: number;
  name: string | null;
  user: string | null;
  container: string | null;
  firstSeen: string;
  lastSeen: string;
  maxMemoryMiB: number | null;
  avgMemoryMiB: number | null;
  /** Records behind the figures (one per VIGIL_PROCESS_INTERVAL while the process ran). */
  samples: number;
}

/** At most this many processes in one answer; the newest first. */
export const MAX_PROCESSES = 10_000;

export async function queryProcesses(
  database: Database,
  gpus: readonly GpuRef[],
  range: { since: Date; until: Date },
): Promise<ProcessRecord[]> {
  if (gpus.length === 0) return [];
  const rows = await database.query<{
    gpu_id: number;
    pid: number;
    name: string | null;
    user: string | null;
    container: string | null;
    first_seen: Date | string;
    last_seen: Date | string;
    max_mem: number | null;
    avg_mem: number | null;
    samples: number;
  }>(
    `select gpu_id, pid, name, "user", container, min(ts) as first_seen, max(ts) as last_seen,
            max(used_memory_mib) as max_mem, avg(used_memory_mib)::float8 as avg_mem, count(*)::int as samples
       from gpu_processes
      where gpu_id = any($1::int[]) and ts >= $2 and ts < $3
      group by gpu_id, pid, name, "user", container
      order by max(ts) desc, gpu_id, pid
      limit ${MAX_PROCESSES}`,
    [gpus.map((g) => g.id), range.since.toISOString(), range.until.toISOString()],
  );
  const byId = new Map(gpus.map((g) => [g.id, g]));
  return rows.map((r) => {
    const g = byId.get(Number(r.gpu_id))!;
    return {
      gpu: g.index,
      uuid: g.uuid,
      pid: Number(r.pid),
      name: r.name,
      user: r.user,
      container: r.container,
      firstSeen: new Date(r.first_seen).toISOString(),
      lastSeen: new Date(r.last_seen).toISOString(),
      maxMemoryMiB: r.max_mem === null ? null : Number(r.max_mem),
      avgMemoryMiB: r.avg_mem === null ? null : Math.round(Number(r.avg_mem) * 10) / 10,
      samples: Number(r.samples),
    };
  });
}

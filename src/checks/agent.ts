// The agent check: how long since the worker's agent was heard (online, stale, offline as the fleet page says) and whether all its GPUs still report.
import { Type, type Static } from "@sinclair/typebox";
import { eq } from "drizzle-orm";
import { workers } from "../db/schema/index.ts";
import { workerStatus, type WorkerStatus } from "../fleet/workers.ts";
import type { Checker, CheckContext, CheckOutcome, HealthStatus } from "./checker.ts";
import { down, failure, needsWorkerId, neverThrows, withDeadline, worst } from "./outcome.ts";

export const agentSchema = Type.Object({}, { additionalProperties: false });
export type AgentConfig = Static<typeof agentSchema>;

/** A GPU reported within this window counts as the worker's: one gone longer was taken out on purpose. */
export const GPU_EXPECTED_WINDOW_MS = 24 * 3600_000;

const STATUS_HEALTH: Readonly<Record<WorkerStatus, HealthStatus>> = {
  online: "healthy",
  stale: "degraded",
  offline: "down",
  "never-seen": "down",
};

/** "45 s", "5 min", "3 h", "2 d": an age as the status line says it. */
export function ageInWords(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

export interface GpuRef {
  index: number;
  uuid: string;
  name: string;
}

/** GPUs expected (registered and reported within the window) against those in the newest sample: which are gone, which report lost. */
export function gpuAbsences(
  expected: readonly GpuRef[],
  reported: readonly { index: number; uuid: string; name: string; lost?: boolean }[],
): { missing: GpuRef[]; lost: GpuRef[] } {
  const present = new Set(reported.map((g) => g.uuid));
  return {
    missing: expected.filter((g) => !present.has(g.uuid)),
    lost: reported.filter((g) => g.lost).map(({ index, uuid, name }) => ({ index, uuid, name })),
  };
}

function gpuWords(list: readonly GpuRef[]): string {
  return list.map((g) => `GPU ${g.index} (${g.uuid})`).join(", ");
}

async function runAgent(ctx: CheckContext): Promise<CheckOutcome> {
  const workerId = needsWorkerId(ctx, "agent");
  if (typeof workerId !== "number") return workerId;
  const { database, latest } = ctx.head;
  const now = ctx.now();
  let row: { name: string; intervalSeconds: number; lastSeenAt: Date | null; revokedAt: Date | null } | undefined;
  let expected: GpuRef[];
  try {
    ({ row, expected } = await withDeadline(ctx, async () => {
      const [row] = await database.db
        .select({
          name: workers.name,
          intervalSeconds: workers.intervalSeconds,
          lastSeenAt: workers.lastSeenAt,
          revokedAt: workers.revokedAt,
        })
        .from(workers)
        .where(eq(workers.id, workerId));
      // gpus.last_seen_at moves only when a GPU (re)registers, so recent samples also count as seen.
      const expected = await database.query<GpuRef>(
        `select g.index, g.uuid, g.name from gpus g
          where g.worker_id = $1
            and (g.last_seen_at >= $2 or exists (select 1 from gpu_samples s where s.gpu_id = g.id and s.ts >= $2))
          order by g.index`,
        [workerId, new Date(now - GPU_EXPECTED_WINDOW_MS).toISOString()],
      );
      return { row, expected };
    }));
  } catch (err) {
    return failure(`agent of worker ${workerId}`, err, { workerId });
  }
  if (!row) return down(`worker ${workerId} does not exist (deleted?)`, { workerId });
  const where = `agent on ${row.name}`;
  const details: Record<string, unknown> = { workerId, worker: row.name, intervalSeconds: row.intervalSeconds };
  if (row.revokedAt) return down(`${where}: its access was revoked ${row.revokedAt.toISOString()}`, details);

  // As the fleet page decides it: the newest of what the cache heard and what was committed.
  const heard = latest.heardAt(workerId);
  const lastSeen = heard && (!row.lastSeenAt || heard > row.lastSeenAt) ? heard : row.lastSeenAt;
  const status = workerStatus(lastSeen, row.intervalSeconds, now);
  const ageMs = lastSeen ? now - lastSeen.getTime() : null;
  Object.assign(details, {
    heartbeat: status,
    lastSeenAt: lastSeen?.toISOString() ?? null,
    ageSeconds: ageMs === null ? null : Math.round(ageMs / 1000),
    connected: ctx.head.sessions.connected(workerId),
  });
  const every = `every ${row.intervalSeconds} s`;
  const heartbeat =
    status === "never-seen"
      ? `${where}: never heard from`
      : status === "online"
        ? `heard ${ageInWords(ageMs!)} ago (${every})`
        : `${where}: ${status}, last heard ${ageInWords(ageMs!)} ago (expected ${every})`;

  const sample = latest.get(workerId)?.sample;
  const { missing, lost } = gpuAbsences(expected, sample?.gpus ?? []);
  details.gpus = { expected: expected.length, reporting: (sample?.gpus.length ?? 0) - lost.length, missing, lost };
  const gpuStatus: HealthStatus = sample && (missing.length > 0 || lost.length > 0) ? "degraded" : "healthy";
  const gpuText = !sample
    ? null
    : [
        missing.length ? `${missing.length} GPU${missing.length === 1 ? "" : "s"} missing: ${gpuWords(missing)}` : "",
        lost.length ? `${lost.length} GPU${lost.length === 1 ? "" : "s"} lost (fell off the bus): ${gpuWords(lost)}` : "",
      ]
        .filter(Boolean)
        .join("; ") || `${sample.gpus.length} GPU${sample.gpus.length === 1 ? "" : "s"} reporting`;

  const heartbeatStatus = STATUS_HEALTH[status];
  const overall = worst(heartbeatStatus, gpuStatus);
  // The worse finding leads the line.
  const parts = gpuStatus !== "healthy" && heartbeatStatus === "healthy" ? [gpuText, heartbeat] : [heartbeat, gpuText];
  return { status: overall, latencyMs: null, message: parts.filter(Boolean).join("; "), details };
}

export const agent: Checker<typeof agentSchema> = {
  kind: "agent",
  label: "Worker agent",
  schema: agentSchema,
  needsWorker: true,
  run: (_config, ctx) => neverThrows("agent", () => runAgent(ctx)),
};

// History tables: 1-minute and 1-hour rollups of every numeric metric, the rollup work queue, and per-process GPU memory.
import { index, integer, pgTable, primaryKey, real, text, timestamp, type PgColumnBuilderBase } from "drizzle-orm/pg-core";
import { GPU_METRICS, HOST_METRICS, type MetricDef } from "../../history/catalogue.ts";
import { gpus, workers } from "./fleet.ts";

/**
 * min / avg / max of each metric as `real` (4 bytes): a rollup is already an approximation, and
 * float4 keeps 7 significant digits (a 64 GiB host's memory to within 4 KiB). BENCHMARKS.md has the
 * bytes per stored value this gives against the alternatives measured.
 */
function aggregateColumns(defs: readonly MetricDef[]): Record<string, PgColumnBuilderBase> {
  const cols: Record<string, PgColumnBuilderBase> = {};
  for (const d of defs) {
    cols[`${d.name}Min`] = real(`${d.column}_min`);
    cols[`${d.name}Avg`] = real(`${d.column}_avg`);
    cols[`${d.name}Max`] = real(`${d.column}_max`);
  }
  return cols;
}

const bucket = () => timestamp("bucket", { withTimezone: true, mode: "date" }).notNull();

function gpuRollup(name: string) {
  return pgTable(
    name,
    {
      gpuId: integer("gpu_id")
        .notNull()
        .references(() => gpus.id, { onDelete: "cascade" }),
      bucket: bucket(),
      workerId: integer("worker_id").notNull(),
      /** Raw samples the row summarises: weights the average when hours are built from minutes. */
      n: integer("n").notNull(),
      ...aggregateColumns(GPU_METRICS),
    },
    (t) => [primaryKey({ columns: [t.gpuId, t.bucket] }), index(`${name}_worker_bucket_idx`).on(t.workerId, t.bucket)],
  );
}

function hostRollup(name: string) {
  return pgTable(
    name,
    {
      workerId: integer("worker_id")
        .notNull()
        .references(() => workers.id, { onDelete: "cascade" }),
      bucket: bucket(),
      n: integer("n").notNull(),
      ...aggregateColumns(HOST_METRICS),
    },
    (t) => [primaryKey({ columns: [t.workerId, t.bucket] })],
  );
}

export const gpuRollup1m = gpuRollup("gpu_rollup_1m");
export const gpuRollup1h = gpuRollup("gpu_rollup_1h");
export const hostRollup1m = hostRollup("host_rollup_1m");
export const hostRollup1h = hostRollup("host_rollup_1h");

/**
 * Buckets whose rollup must be (re)computed. The writer marks the minute of every sample it commits
 * in the same transaction, so rollups follow new data (late backlogs included) without rescanning.
 */
export const rollupPending = pgTable(
  "rollup_pending",
  {
    tier: text("tier").$type<"1m" | "1h">().notNull(),
    workerId: integer("worker_id")
      .notNull()
      .references(() => workers.id, { onDelete: "cascade" }),
    bucket: bucket(),
    /** Touched on every mark: the row lock makes a concurrent rollup wait for the writer's commit. */
    markedAt: timestamp("marked_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tier, t.workerId, t.bucket] })],
);

/** Per-process GPU memory, stored at most every VIGIL_PROCESS_INTERVAL per GPU: who held the GPU, and when. */
export const gpuProcesses = pgTable(
  "gpu_processes",
  {
    gpuId: integer("gpu_id")
      .notNull()
      .references(() => gpus.id, { onDelete: "cascade" }),
    ts: timestamp("ts", { withTimezone: true, mode: "date" }).notNull(),
    pid: integer("pid").notNull(),
    workerId: integer("worker_id").notNull(),
    name: text("name"),
    user: text("user"),
    container: text("container"),
    usedMemoryMiB: integer("used_memory_mib"),
    /** compute, graphics or both, as NVML listed it. */
    type: text("type"),
  },
  (t) => [primaryKey({ columns: [t.gpuId, t.ts, t.pid] }), index("gpu_processes_worker_ts_idx").on(t.workerId, t.ts)],
);

// History benchmark: loads a fleet's day of 1 s samples (and a week of rollups), then measures query latency and bytes per stored value.
// Usage: bun bench/history.ts [--engine pglite|postgres|both] [--workers 50] [--gpus 8] [--hours 24] [--days 7] [--runs 60]
// Prints a Markdown table for BENCHMARKS.md. The full default load is 34.6 M GPU rows per engine: allow tens of minutes.
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openDatabase, type Database, type Engine } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { GPU_METRICS, HOST_METRICS } from "../src/history/catalogue.ts";
import { rollupPending } from "../src/retention/rollup.ts";
import { startPostgres } from "../test/harness/postgres.ts";
import { benchHead } from "./history-head.ts";

const { values } = parseArgs({
  options: {
    engine: { type: "string", default: "both" },
    workers: { type: "string", default: "50" },
    gpus: { type: "string", default: "8" },
    hours: { type: "string", default: "24" },
    days: { type: "string", default: "7" },
    runs: { type: "string", default: "60" },
  },
});
const WORKERS = Number(values.workers);
const GPUS = Number(values.gpus);
const HOURS = Number(values.hours);
const DAYS = Number(values.days);
const RUNS = Number(values.runs);
const HOUR = 3600_000;
const now = new Date(Math.floor(Date.now() / HOUR) * HOUR);
const rawFrom = new Date(now.getTime() - HOURS * HOUR);
const rollFrom = new Date(now.getTime() - DAYS * 24 * HOUR);

/** One hour of one worker's GPU rows, vitals varying with time and GPU so indexes and compression see realistic data. */
const GPU_HOUR = `insert into gpu_samples (gpu_id, ts, worker_id, utilization, memory_utilization, memory_used_mib, memory_total_mib,
    temperature, power_w, power_limit_w, fan_speed, sm_clock_mhz, memory_clock_mhz, pcie_tx_kbps, pcie_rx_kbps, encoder_utilization,
    decoder_utilization, pstate, throttle_reasons, ecc_corrected, ecc_uncorrected, processes, memory_temperature, graphics_clock_mhz,
    pcie_link_gen, pcie_link_width, lost)
  select g.id, t, g.worker_id, (s * 13 + g.id) % 101, (s + g.id) % 60, 40000 + (s % 1000), 81559, 40 + (s + g.id) % 40,
    300 + ((s * 7 + g.id) % 400) + 0.5, 700, null, 1980 - (s % 200), 2619, 1000 + s % 500 + 0.25, 800 + s % 300 + 0.5, 0, 0, 0,
    '{}', 0, 0, null, 60 + s % 10, 1980, 5, 16, false
  from gpus g, generate_series($2::timestamptz, $3::timestamptz - interval '1 second', interval '1 second') as t,
       lateral (select extract(epoch from t)::bigint as s) x
  where g.worker_id = $1`;

const HOST_HOUR = `insert into host_samples (worker_id, ts, seq, cpu_percent, load1, load5, load15, memory_used, memory_total, swap_used,
    swap_total, uptime_seconds, disk_read_bps, disk_write_bps, net_rx_bps, net_tx_bps, disks, cpu_per_core, cpu_temperature, gpu_source)
  select $1, t, s, (s % 100) + 0.5, 1.5, 1.2, 1.0, 12884901888 + (s % 1000) * 4096, 68719476736, 0, 0, s, 1000 * (s % 50), 2000 * (s % 30),
    5000 * (s % 70), 3000 * (s % 90), '[{"mount":"/","used":1,"total":2,"inodesUsed":1,"inodesTotal":2}]'::jsonb, '{10,15}', 52, 'nvml'
  from generate_series($2::timestamptz, $3::timestamptz - interval '1 second', interval '1 second') as t,
       lateral (select extract(epoch from t)::bigint as s) x`;

function rollupInsert(table: "gpu" | "host", stepSql: string): string {
  const defs = table === "gpu" ? GPU_METRICS : HOST_METRICS;
  const cols = defs.flatMap((d) => ["min", "avg", "max"].map((a) => `"${d.column}_${a}"`)).join(", ");
  const vals = defs.map((_, i) => `(s + ${i}) % 90, (s + ${i}) % 90 + 3.5, (s + ${i}) % 90 + 7`).join(", ");
  return table === "gpu"
    ? `insert into gpu_rollup_${stepSql} (gpu_id, bucket, worker_id, n, ${cols})
       select g.id, t, g.worker_id, 60, ${vals}
       from gpus g, generate_series($2::timestamptz, $3::timestamptz - interval '1 ${stepSql === "1m" ? "minute" : "hour"}', interval '1 ${stepSql === "1m" ? "minute" : "hour"}') as t,
            lateral (select (extract(epoch from t)::bigint / 60) as s) x
       where g.worker_id = $1`
    : `insert into host_rollup_${stepSql} (worker_id, bucket, n, ${cols})
       select $1, t, 60, ${vals}
       from generate_series($2::timestamptz, $3::timestamptz - interval '1 ${stepSql === "1m" ? "minute" : "hour"}', interval '1 ${stepSql === "1m" ? "minute" : "hour"}') as t,
            lateral (select (extract(epoch from t)::bigint / 60) as s) x`;
}

const iso = (d: Date | number) => new Date(d).toISOString();
const say = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

async function load(database: Database): Promise<{ loadSeconds: number; rollupSeconds: number; rollupRate: number }> {
  const started = performance.now();
  const workerIds: number[] = [];
  for (let w = 0; w < WORKERS; w++) {
    const [row] = await database.query<{ id: number }>(
      `insert into workers (name, kind, hostname, last_seen_at, interval_seconds) values ($1, 'remote', $1, now(), 1) returning id`,
      [`gpu-${String(w).padStart(3, "0")}`],
    );
    workerIds.push(row!.id);
    for (let g = 0; g < GPUS; g++) {
      await database.query(
        `insert into gpus (worker_id, index, uuid, name, memory_total_mib) values ($1, $2, $3, 'NVIDIA H100 80GB HBM3', 81559)`,
        [row!.id, g, `GPU-${w}-${g}-0000-0000-000000000000`],
      );
    }
  }
  for (const [i, id] of workerIds.entries()) {
    for (let h = 0; h < HOURS; h++) {
      const from = iso(rawFrom.getTime() + h * HOUR);
      const to = iso(rawFrom.getTime() + (h + 1) * HOUR);
      await database.query(GPU_HOUR, [id, from, to]);
      await database.query(HOST_HOUR, [id, from, to]);
    }
    // A week of rollups, the raw day's included (generated here: rolling up 35 M rows is measured below on a sample).
    for (const [kind, step] of [
      ["gpu", "1m"],
      ["host", "1m"],
      ["gpu", "1h"],
      ["host", "1h"],
    ] as const) {
      await database.query(rollupInsert(kind, step), [id, iso(rollFrom), iso(now)]);
    }
    if ((i + 1) % 5 === 0 || i + 1 === WORKERS)
      say(`loaded ${i + 1}/${WORKERS} workers (${Math.round((performance.now() - started) / 1000)} s)`);
  }
  const loadSeconds = (performance.now() - started) / 1000;
  // The real rollup code's rate: one worker's last 3 hours recomputed from its raw samples.
  const first = (await database.query<{ id: number }>("select min(id)::int as id from workers"))[0]!.id;
  await database.query(
    `insert into rollup_pending (tier, worker_id, bucket, marked_at)
     select '1m', $1, t, now() from generate_series($2::timestamptz, $3::timestamptz - interval '1 minute', interval '1 minute') t`,
    [first, iso(now.getTime() - 3 * HOUR), iso(now)],
  );
  const r0 = performance.now();
  const r = await rollupPending(database, { batch: 200 });
  const rollupSeconds = (performance.now() - r0) / 1000;
  say(`rolled up ${r.minutes} worker-minutes (${r.gpuRows} GPU rows) and ${r.hours} worker-hours in ${rollupSeconds.toFixed(1)} s`);
  if (database.engine === "pglite") await database.query("checkpoint");
  await database.query("vacuum analyze");
  return { loadSeconds, rollupSeconds, rollupRate: (GPUS * 3 * 3600) / rollupSeconds };
}

async function bytesPerValue(database: Database) {
  const size = async (t: string) => {
    const [r] = await database.query<{ bytes: number; rows: number }>(
      `select pg_total_relation_size('${t}')::float8 as bytes, (select count(*) from ${t})::float8 as rows`,
    );
    return { bytes: Number(r!.bytes), rows: Number(r!.rows) };
  };
  const gpuRaw = await size("gpu_samples");
  const hostRaw = await size("host_samples");
  const gpu1m = await size("gpu_rollup_1m");
  return {
    gpuRaw: gpuRaw.bytes / (gpuRaw.rows * GPU_METRICS.length),
    gpuRawRow: gpuRaw.bytes / gpuRaw.rows,
    hostRaw: hostRaw.bytes / (hostRaw.rows * HOST_METRICS.length),
    gpu1m: gpu1m.bytes / (gpu1m.rows * GPU_METRICS.length * 3),
    totalBytes: (await database.query<{ b: number }>("select pg_database_size(current_database())::float8 as b"))[0]!.b,
  };
}

/** The narrow alternative (one row per value) measured on one worker-hour, for the record of why rows are wide. */
async function narrowLayout(database: Database): Promise<number> {
  await database.query(`create table narrow_samples (gpu_id int not null, ts timestamptz not null, metric smallint not null, value real,
    primary key (gpu_id, ts, metric))`);
  const cols = GPU_METRICS.map((d, i) => `(${i}, "${d.column}"::real)`).join(", ");
  await database.query(
    `insert into narrow_samples select s.gpu_id, s.ts, v.m, v.x from gpu_samples s, lateral (values ${cols}) v(m, x)
      where s.worker_id = (select min(id) from workers) and s.ts >= $1 and s.ts < $2`,
    [iso(rawFrom), iso(rawFrom.getTime() + HOUR)],
  );
  const [r] = await database.query<{ b: number; n: number }>(
    `select pg_total_relation_size('narrow_samples')::float8 as b, (select count(*) from narrow_samples)::float8 as n`,
  );
  await database.query("drop table narrow_samples");
  return Number(r!.b) / Number(r!.n);
}

const pct = (v: number[], p: number) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function latencies(database: Database, engine: Engine) {
  const head = await benchHead(database, engine);
  try {
    const gpuWorker = 1 + Math.floor(WORKERS / 2);
    const cases: [string, string][] = [
      [
        "24 h -> 1000 points, one GPU",
        `/api/v1/workers/${gpuWorker}/metrics?since=${iso(now.getTime() - 24 * HOUR)}&until=${iso(now)}&gpu=3`,
      ],
      [
        "24 h -> 1000 points, one GPU, utilization only",
        `/api/v1/workers/${gpuWorker}/metrics?since=${iso(now.getTime() - 24 * HOUR)}&until=${iso(now)}&gpu=3&metrics=utilization`,
      ],
      [
        "7 d -> 1000 points, one GPU",
        `/api/v1/workers/${gpuWorker}/metrics?since=${iso(now.getTime() - 7 * 24 * HOUR)}&until=${iso(now)}&gpu=3`,
      ],
      [
        "1 h -> 1000 points, one GPU (raw)",
        `/api/v1/workers/${gpuWorker}/metrics?since=${iso(now.getTime() - HOUR)}&until=${iso(now)}&gpu=3`,
      ],
      [
        "24 h stats (p95), one worker",
        `/api/v1/workers/${gpuWorker}/stats?since=${iso(now.getTime() - 24 * HOUR + 60_000)}&until=${iso(now)}&metrics=utilization,temperature,powerUsage`,
      ],
      ["/metrics/current (50 workers)", `/api/v1/metrics/current`],
      ["/healthz (baseline: routing + auth + one query)", `/healthz`],
    ];
    const out: { name: string; median: number; p95: number; bytes: number; tier?: string }[] = [];
    for (const [name, path] of cases) {
      const times: number[] = [];
      let bytes = 0;
      let tier: string | undefined;
      for (let i = 0; i < RUNS + 3; i++) {
        const t0 = performance.now();
        const res = await head.get(path);
        const body = await res.text();
        const ms = performance.now() - t0;
        if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
        if (i >= 3) times.push(ms); // the first few warm caches and the JIT
        bytes = body.length;
        tier = (JSON.parse(body) as { tier?: string }).tier;
      }
      out.push({ name, median: pct(times, 50), p95: pct(times, 95), bytes, tier });
      say(`${engine}: ${name}: median ${pct(times, 50).toFixed(1)} ms, p95 ${pct(times, 95).toFixed(1)} ms`);
    }
    return out;
  } finally {
    await head.close();
  }
}

async function runEngine(engine: Engine) {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-history-"));
  const pg = engine === "postgres" ? await startPostgres() : undefined;
  try {
    const url = pg ? await pg.createDatabase() : undefined;
    const database = await openDatabase({ databaseUrl: url, dataDir: dir, poolSize: 4 });
    try {
      await migrate(database);
      say(`${engine}: loading ${WORKERS} workers x ${GPUS} GPUs x ${HOURS} h of 1 s samples, ${DAYS} d of rollups`);
      const loaded = await load(database);
      const bytes = await bytesPerValue(database);
      const narrow = await narrowLayout(database);
      const lat = await latencies(database, engine);
      return { engine, loaded, bytes, narrow, lat };
    } finally {
      await database.close();
    }
  } finally {
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const engines: Engine[] = values.engine === "both" ? ["pglite", "postgres"] : [values.engine as Engine];
const results: Awaited<ReturnType<typeof runEngine>>[] = [];
for (const e of engines) results.push(await runEngine(e));

console.log(
  `\n### History (${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Bun ${Bun.version})`,
);
console.log(
  `\`bun bench/history.ts --workers ${WORKERS} --gpus ${GPUS} --hours ${HOURS} --days ${DAYS} --runs ${RUNS}\`: ${(WORKERS * GPUS * HOURS * 3600).toLocaleString("en")} raw GPU rows, ${(WORKERS * HOURS * 3600).toLocaleString("en")} host rows, ${DAYS} d of 1-minute rollups\n`,
);
console.log(`| query | ${results.map((r) => `${r.engine} median | ${r.engine} p95`).join(" | ")} | tier | answer |`);
console.log(`|---|${results.map(() => "---:|---:").join("|")}|---|---:|`);
for (let i = 0; i < results[0]!.lat.length; i++) {
  const row = results.map((r) => `${r.lat[i]!.median.toFixed(1)} ms | ${r.lat[i]!.p95.toFixed(1)} ms`).join(" | ");
  const first = results[0]!.lat[i]!;
  console.log(`| ${first.name} | ${row} | ${first.tier ?? ""} | ${(first.bytes / 1024).toFixed(1)} KiB |`);
}
console.log(`\n| storage | ${results.map((r) => r.engine).join(" | ")} |`);
console.log(`|---|${results.map(() => "---:").join("|")}|`);
const line = (name: string, f: (r: (typeof results)[number]) => string) => console.log(`| ${name} | ${results.map(f).join(" | ")} |`);
line("raw GPU: bytes per stored value (row of 21 metrics, with both indexes)", (r) => r.bytes.gpuRaw.toFixed(1));
line("raw GPU: bytes per row", (r) => r.bytes.gpuRawRow.toFixed(0));
line("raw host: bytes per stored value (15 metrics + disks)", (r) => r.bytes.hostRaw.toFixed(1));
line("1-minute GPU rollup: bytes per stored aggregate", (r) => r.bytes.gpu1m.toFixed(1));
line("narrow alternative (one row per value): bytes per value", (r) => r.narrow.toFixed(1));
line("whole database", (r) => `${(r.bytes.totalBytes / 2 ** 30).toFixed(2)} GiB`);
line("load (generate_series in SQL)", (r) => `${r.loaded.loadSeconds.toFixed(0)} s`);
line(
  "rollup by the real rollup code (one worker, 3 h of raw samples)",
  (r) => `${r.loaded.rollupSeconds.toFixed(1)} s (${Math.round(r.loaded.rollupRate).toLocaleString("en")} raw GPU rows/s)`,
);

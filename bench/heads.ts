// Several heads on one PostgreSQL: GPU samples per second committed with 1, 2 and 3 compiled heads, and what one sample costs the database.
// Usage: make build && bun bench/heads.ts [--seconds 20] [--workers 48] [--gpus 8]. Prints Markdown for BENCHMARKS.md.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { startPostgres } from "../test/harness/postgres.ts";
import { BINARY, run, simulate, startHead, type BenchHead } from "./fleet.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "20" },
    workers: { type: "string", default: "48" },
    gpus: { type: "string", default: "8" },
    batch: { type: "string", default: "15" },
    heads: { type: "string", default: "1,2,3" },
  },
});
const SECONDS = Number(values.seconds);
const WORKERS = Number(values.workers);
const GPUS = Number(values.gpus);
const BATCH = Number(values.batch);
const HEADS = values.heads!.split(",").map(Number);
const work = mkdtempSync(join(tmpdir(), "vigil-bench-heads-"));
const TICK = 100; // clock ticks per second (USER_HZ) on Linux

function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined; // gone
  }
}

/**
 * CPU seconds of the PostgreSQL server: the postmaster with its reaped children (cutime, cstime: backends that
 * closed) plus the children alive now.
 */
function serverCpu(postmaster: number): number {
  const own = statFields(postmaster);
  if (!own) return 0;
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const f = statFields(pid);
    if (f && Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / TICK;
}

/** The postmaster's pid: the parent of the backend serving this connection. */
async function postmasterOf(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const backend = Number((await client.query("select pg_backend_pid() as p")).rows[0].p);
    return Number(statFields(backend)![1]);
  } finally {
    await client.end();
  }
}

interface Result {
  heads: number;
  rate: number;
  acked: number;
  sent: number;
  rows: number;
  duplicates: number;
  dbCpuPerSample: number; // seconds of PostgreSQL CPU per GPU sample
  headCpuPerSample: number;
  bytesPerValue: number;
}

async function measure(n: number, databaseUrl: string): Promise<Result> {
  const postmaster = await postmasterOf(databaseUrl);
  const heads: BenchHead[] = [];
  const env = { DATABASE_URL: databaseUrl, VIGIL_NVML_LIB: "/nonexistent/libnvidia-ml.so.1", VIGIL_NVIDIA_SMI: "/nonexistent/nvidia-smi" };
  try {
    for (let i = 0; i < n; i++) heads.push(await startHead(`head ${i + 1} of ${n}`, { ...env, VIGIL_DATA_DIR: join(work, `h${n}-${i}`) }));
    const token = (
      await run([BINARY, "token", "create", "--name", `bench-${n}`, "--role", "admin"], { ...env, VIGIL_DATA_DIR: join(work, `h${n}-0`) })
    ).stdout.trim();
    const pgBefore = serverCpu(postmaster);
    const headsBefore = heads.reduce((s, h) => s + cpuOf(h.proc.pid), 0);
    // The workers spread over the heads round robin, as agents behind a load balancer would be.
    const summary = await simulate(
      `${n} head(s)`,
      heads.map((h) => h.url),
      { token, workers: WORKERS, gpus: GPUS, batch: BATCH, seconds: SECONDS },
    );
    const pgCpu = serverCpu(postmaster) - pgBefore;
    const headCpu = heads.reduce((s, h) => s + cpuOf(h.proc.pid), 0) - headsBefore;
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const rows = Number((await client.query("select count(*)::bigint as n from gpu_samples")).rows[0].n);
      const distinct = Number(
        (await client.query("select count(*)::bigint as n from (select distinct gpu_id, ts from gpu_samples) d")).rows[0].n,
      );
      const bytes = Number((await client.query("select pg_total_relation_size('gpu_samples')::bigint as b")).rows[0].b);
      // The numeric columns a GPU sample row carries (everything but its keys and time).
      const columns = Number(
        (
          await client.query(
            "select count(*)::int as n from information_schema.columns where table_name = 'gpu_samples' and column_name not in ('gpu_id', 'worker_id', 'ts')",
          )
        ).rows[0].n,
      );
      console.error(
        `${n} head(s): ${JSON.stringify(summary)}; rows ${rows}, pg cpu ${pgCpu.toFixed(1)} s, heads cpu ${headCpu.toFixed(1)} s`,
      );
      return {
        heads: n,
        rate: summary.gpuSamplesPerSecond,
        acked: summary.acked ?? 0,
        sent: summary.sent ?? 0,
        rows,
        duplicates: rows - distinct,
        dbCpuPerSample: pgCpu / rows,
        headCpuPerSample: headCpu / rows,
        bytesPerValue: bytes / rows / columns,
      };
    } finally {
      await client.end();
    }
  } finally {
    await Promise.all(heads.map((h) => h.stop()));
  }
}

function cpuOf(pid: number): number {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / TICK : 0;
}

const results: Result[] = [];
const server = await startPostgres();
try {
  for (const n of HEADS) results.push(await measure(n, await server.createDatabase(`heads${n}`)));
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}

console.log(
  `\nMachine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}; ${WORKERS} simulated workers x ${GPUS} GPUs spread over the heads, ${BATCH} samples per message every 0.2 s (${(WORKERS * BATCH * 5 * GPUS).toLocaleString("en")} GPU samples/s offered), ${SECONDS} s each\n`,
);
console.log(
  "| heads | GPU samples/s committed | vs 1 head | samples acked / sent | rows stored (duplicates) | PostgreSQL CPU per 1,000 samples | heads' CPU per 1,000 samples | bytes per value |\n|---|---|---|---|---|---|---|---|",
);
const base = results[0]!.rate;
for (const r of results) {
  console.log(
    `| ${r.heads} | ${Math.round(r.rate).toLocaleString("en")} | ${(r.rate / base).toFixed(2)} | ${r.acked.toLocaleString("en")} / ${r.sent.toLocaleString("en")} | ${r.rows.toLocaleString("en")} (${r.duplicates}) | ${(r.dbCpuPerSample * 1e6).toFixed(0)} ms | ${(r.headCpuPerSample * 1e6).toFixed(0)} ms | ${r.bytesPerValue.toFixed(1)} |`,
  );
}
// The projection: PostgreSQL's own CPU per sample is what one server cannot spread; heads can be added.
const perSample = Math.min(...results.map((r) => r.dbCpuPerSample));
const perCore = 1 / perSample;
console.log(
  `\nProjection: PostgreSQL spent ${(perSample * 1e6).toFixed(0)} µs of CPU per GPU sample at best, so one core of it commits about ${Math.round(perCore).toLocaleString("en")} GPU samples/s. ` +
    `At 1 s intervals with 8 GPUs a worker, a 16-core server kept at 60 % busy takes about ${Math.round((perCore * 16 * 0.6) / 8).toLocaleString("en")} workers (${Math.round(perCore * 16 * 0.6).toLocaleString("en")} GPU samples/s).`,
);

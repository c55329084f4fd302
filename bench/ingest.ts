// Ingest benchmark: GPU samples per second committed end to end (vigil simulate -> compiled head), beside the raw multi-row INSERT rate of the same engine.
// Usage: make build && bun bench/ingest.ts [--seconds 20] [--workers 50] [--gpus 8]. Prints a Markdown table for BENCHMARKS.md.
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openDatabase, type Database } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { gpuSamples, gpus, workers } from "../src/db/schema/index.ts";
import { gpuRow } from "../src/ingest/rows.ts";
import { makeGpu } from "../test/fixtures/samples.ts";
import { startPostgres } from "../test/harness/postgres.ts";
import { BINARY, run, simulate, startHead } from "./fleet.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "20" },
    workers: { type: "string", default: "50" },
    gpus: { type: "string", default: "8" },
    batch: { type: "string", default: "15" },
  },
});
const SECONDS = Number(values.seconds);
const WORKERS = Number(values.workers);
const GPUS = Number(values.gpus);
/** Samples per message per worker every 0.2 s: 50 x 15 x 5 x 8 = 30,000 GPU samples/s offered, more than the head takes. */
const BATCH = Number(values.batch);
const work = mkdtempSync(join(tmpdir(), "vigil-bench-ingest-"));

/** The writer's own statement shape (multi-row VALUES, 1000 rows each) straight into gpu_samples, no HTTP, no validation. */
async function rawInsertRate(database: Database): Promise<number> {
  const [w] = await database.db.insert(workers).values({ name: "raw", kind: "remote" }).returning({ id: workers.id });
  const ids: number[] = [];
  for (let g = 0; g < GPUS; g++) {
    const [row] = await database.db
      .insert(gpus)
      .values({ workerId: w!.id, index: g, uuid: `GPU-raw-${g}`, name: "raw" })
      .returning({ id: gpus.id });
    ids.push(row!.id);
  }
  const base = Date.now() - 86_400_000;
  let rows = 0;
  let t = 0;
  const started = performance.now();
  while (performance.now() - started < SECONDS * 1000) {
    const batch: ReturnType<typeof gpuRow>[] = [];
    for (let i = 0; i < 1000 / GPUS; i++, t++)
      for (let g = 0; g < GPUS; g++) batch.push(gpuRow(ids[g]!, w!.id, new Date(base + t * 1000), makeGpu(g)));
    await database.db.transaction(async (tx) => {
      await tx.insert(gpuSamples).values(batch);
    });
    rows += batch.length;
  }
  return rows / ((performance.now() - started) / 1000);
}

async function endToEnd(label: string, env: Record<string, string>): Promise<number> {
  const head = await startHead(label, env);
  try {
    const token = (await run([BINARY, "token", "create", "--name", "bench", "--role", "admin"], env)).stdout.trim();
    const summary = await simulate(label, [head.url], { token, workers: WORKERS, gpus: GPUS, batch: BATCH, seconds: SECONDS });
    return summary.gpuSamplesPerSecond;
  } finally {
    await head.stop();
  }
}

const results: string[] = [];
// PGlite
{
  const dir = join(work, "raw-pglite");
  const db = await openDatabase({ dataDir: dir });
  await migrate(db);
  const raw = await rawInsertRate(db);
  await db.close();
  const e2e = await endToEnd("pglite", { VIGIL_DATA_DIR: join(work, "e2e-pglite") });
  results.push(
    `| PGlite (embedded) | ${Math.round(e2e).toLocaleString("en")} | ${Math.round(raw).toLocaleString("en")} | ${(e2e / raw).toFixed(2)} |`,
  );
}
// PostgreSQL 15
{
  const pg = await startPostgres();
  try {
    const rawUrl = await pg.createDatabase("raw");
    const db = await openDatabase({ databaseUrl: rawUrl, dataDir: work });
    await migrate(db);
    const raw = await rawInsertRate(db);
    await db.close();
    const e2e = await endToEnd("postgres", { DATABASE_URL: await pg.createDatabase("e2e"), VIGIL_DATA_DIR: join(work, "e2e-pg") });
    results.push(
      `| PostgreSQL 15 (local, same machine) | ${Math.round(e2e).toLocaleString("en")} | ${Math.round(raw).toLocaleString("en")} | ${(e2e / raw).toFixed(2)} |`,
    );
  } finally {
    await pg.stop();
  }
}
rmSync(work, { recursive: true, force: true });
console.log(
  `\nMachine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}; ${WORKERS} simulated workers x ${GPUS} GPUs, ${BATCH} samples per message every 0.2 s (${(WORKERS * BATCH * 5 * GPUS).toLocaleString("en")} GPU samples/s offered), ${SECONDS} s each\n`,
);
console.log("| engine | end to end, GPU samples/s committed | raw multi-row INSERT, rows/s | ratio |\n|---|---|---|---|");
for (const r of results) console.log(r);

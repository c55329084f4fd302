// Alert engine benchmark: CPU time to evaluate one worker's sample (8 GPUs, the seeded rules and every built-in), beside validating the same sample as the baseline.
// Usage: bun bench/alerts.ts [--workers 100] [--gpus 8] [--rounds 30]. Prints a Markdown table for BENCHMARKS.md.
import { cpus, totalmem } from "node:os";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AlertEngine } from "../src/alerts/engine.ts";
import { openDatabase } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { upsertWorker } from "../src/fleet/workers.ts";
import { log, setLogLevel } from "../src/log.ts";
import { checkSample } from "../src/protocol/sample.ts";
import { makeGpu, makeSample } from "../test/fixtures/samples.ts";

const { values } = parseArgs({
  options: {
    workers: { type: "string", default: "100" },
    gpus: { type: "string", default: "8" },
    rounds: { type: "string", default: "30" },
  },
});
const WORKERS = Number(values.workers);
const GPUS = Number(values.gpus);
const ROUNDS = Number(values.rounds);
setLogLevel("warn");

const dir = mkdtempSync(join(tmpdir(), "vigil-bench-alerts-"));
const database = await openDatabase({ dataDir: dir });
try {
  await migrate(database);
  const ids: number[] = [];
  for (let w = 0; w < WORKERS; w++) ids.push(await upsertWorker(database.db, { name: `gpu-${w}`, kind: "remote", intervalSeconds: 1 }));
  const engine = new AlertEngine({ db: database.db, log });
  await engine.start();
  // Busy but healthy GPUs: every rule is evaluated, none fires (transitions are database work, measured by the ingest benchmark's kind of test, not here).
  const samples = ids.map((_, w) => {
    const s = makeSample(w + 1, { ts: new Date(), gpus: GPUS });
    s.gpus = s.gpus.map((g, i) =>
      makeGpu(i, { utilization: 60 + ((w + i) % 30), temperature: 55 + ((w * 3 + i) % 12), memoryUsed: 30_000 }),
    );
    return s;
  });
  const json = samples.map((s) => JSON.parse(JSON.stringify(s)));

  const perRound = async (fn: (w: number) => unknown) => {
    const t: number[] = [];
    for (let r = 0; r < ROUNDS + 5; r++) {
      const start = performance.now();
      for (let w = 0; w < ids.length; w++) await fn(w);
      if (r >= 5) t.push((performance.now() - start) / ids.length);
    }
    t.sort((a, b) => a - b);
    return t[Math.floor(t.length / 2)]!;
  };
  const validate = await perRound((w) => checkSample(json[w]));
  const evaluate = await perRound((w) => engine.observe(ids[w]!, `gpu-${w}`, samples[w]!));
  await engine.stop();
  if (engine.stats.errors || engine.stats.transitions) throw new Error(`unexpected: ${JSON.stringify(engine.stats)}`);

  const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
  console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Bun ${Bun.version}`);
  console.log(`${WORKERS} workers × ${GPUS} GPUs, median of ${ROUNDS} rounds (µs per worker sample)\n`);
  console.log("| step | per sample | ratio to validation |");
  console.log("|---|---:|---:|");
  console.log(`| validate the wire sample (baseline) | ${us(validate)} | 1.0 |`);
  console.log(`| evaluate every alert rule | ${us(evaluate)} | ${(evaluate / validate).toFixed(1)} |`);
  console.log(`\nAt 1 sample/s per worker: ${((evaluate * WORKERS) / 10).toFixed(2)} % of one core for ${WORKERS} workers.`);
} finally {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
}

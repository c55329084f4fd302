// Benchmark of the agent's disk spool with 8-GPU samples: append, take + ack, and reopen of a full spool.
// Usage: bun bench/spool.ts [--samples N] [--dir PATH]. Prints a Markdown table for BENCHMARKS.md.
// Baseline in the same run: JSON.stringify of the same samples, the floor of any append.
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Spool } from "../agent/spool.ts";
import { makeSample } from "../test/fixtures/samples.ts";

const { values } = parseArgs({ options: { samples: { type: "string", default: "20000" }, dir: { type: "string" } } });
const SAMPLES = Number(values.samples);
const SYNCED_SAMPLES = Math.min(2000, SAMPLES);
const BATCH = 500; // MAX_BATCH_SAMPLES, what the sender takes at once
const work = mkdtempSync(join(values.dir ?? tmpdir(), "vigil-bench-spool-"));

const samples = Array.from({ length: SAMPLES }, (_, seq) => makeSample(seq, { gpus: 8 }));
const sampleBytes = Buffer.byteLength(JSON.stringify(samples[0]));
const perSecond = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString("en-US")}/s`;

async function appendAll(dir: string, n: number, syncIntervalMs?: number): Promise<{ spool: Spool; ms: number }> {
  const spool = await Spool.open({ dir, syncIntervalMs });
  const t = performance.now();
  for (let i = 0; i < n; i++) await spool.append(samples[i]!);
  await spool.sync();
  return { spool, ms: performance.now() - t };
}

try {
  let t = performance.now();
  for (const s of samples) JSON.stringify(s);
  const stringifyMs = performance.now() - t;

  const batched = await appendAll(join(work, "batched"), SAMPLES);
  const spoolMiB = batched.spool.bytes / 2 ** 20;

  t = performance.now();
  for (;;) {
    const taken = await batched.spool.takeBacklog(BATCH);
    if (taken.length === 0) break;
    await batched.spool.ack(taken.map((s) => s.seq));
  }
  const drainMs = performance.now() - t;
  await batched.spool.close();

  const synced = await appendAll(join(work, "synced"), SYNCED_SAMPLES, 0);
  await synced.spool.close();

  // Reopen: a full spool (nothing acknowledged) is indexed again from its CRCs.
  const full = await appendAll(join(work, "full"), SAMPLES);
  await full.spool.close();
  const reopenMs: number[] = [];
  let pending = 0;
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    const reopened = await Spool.open({ dir: join(work, "full") });
    reopenMs.push(performance.now() - t);
    pending = reopened.pending;
    await reopened.close();
  }

  console.log(
    `Spool, ${SAMPLES} samples of 8 GPUs (${sampleBytes} bytes of JSON each), ${cpus().length} CPUs, Bun ${Bun.version}, ${work}`,
  );
  console.log("");
  console.log("| measure | value |");
  console.log("|---|---|");
  console.log(`| JSON.stringify alone (baseline) | ${perSecond(SAMPLES, stringifyMs)} |`);
  console.log(`| append, fdatasync at most every 200 ms (default) | ${perSecond(SAMPLES, batched.ms)} (${spoolMiB.toFixed(1)} MiB) |`);
  console.log(
    `| append, fdatasync on every append (syncIntervalMs 0, ${SYNCED_SAMPLES} samples) | ${perSecond(SYNCED_SAMPLES, synced.ms)} |`,
  );
  console.log(`| takeBacklog(${BATCH}) + ack, draining the spool | ${perSecond(SAMPLES, drainMs)} |`);
  console.log(
    `| reopen of the full spool (${spoolMiB.toFixed(1)} MiB, ${pending} pending): first, then best of the next two | ${reopenMs[0]!.toFixed(0)} ms, ${Math.min(...reopenMs.slice(1)).toFixed(0)} ms |`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

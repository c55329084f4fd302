// Benchmark of the compiled binary: size, time to first /healthz 200 (cold and warm data directory), idle RSS on each engine.
// Usage: make build && bun bench/startup.ts [--runs N] [--idle-seconds S]. Prints a Markdown table for BENCHMARKS.md.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startPostgres } from "../test/harness/postgres.ts";
import { freePort } from "../test/harness/process.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" }, "idle-seconds": { type: "string", default: "60" } } });
const RUNS = Number(values.runs);
const IDLE_SECONDS = Number(values["idle-seconds"]);
const REPO = resolve(import.meta.dir, "..");
const BINARY = join(REPO, "dist/vigil");
const work = mkdtempSync(join(tmpdir(), "vigil-bench-"));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mib = (bytes: number) => bytes / 2 ** 20;

function rssBytes(pid: number): number {
  const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb) * 1024;
}

/** Starts `cmd`, polls `url` until 200; returns ms from spawn to the first 200 and the process. */
async function timeToReady(cmd: string[], env: Record<string, string>, url: string, cwd = work) {
  const started = performance.now();
  const proc = Bun.spawn(cmd, { cwd, env: { PATH: process.env.PATH!, ...env }, stdout: "ignore", stderr: "ignore" });
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.status === 200) return { ms: performance.now() - started, proc };
    } catch {
      /* not yet */
    }
    if (proc.exitCode !== null) throw new Error(`${cmd.join(" ")} exited ${proc.exitCode}`);
    if (performance.now() - started > 60_000) throw new Error(`${cmd.join(" ")}: no 200 from ${url} in 60 s`);
    await Bun.sleep(2);
  }
}

async function stop(proc: ReturnType<typeof Bun.spawn>) {
  proc.kill("SIGTERM");
  await proc.exited;
}

// Baseline measured in the same run: the bare Bun runtime compiled with a one-route server.
const baselineSrc = join(work, "baseline.ts");
writeFileSync(baselineSrc, `Bun.serve({ hostname: "127.0.0.1", port: Number(process.env.PORT), fetch: () => new Response("ok") });\n`);
const baselineBin = join(work, "baseline");
const b = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", baselineSrc, "--outfile", baselineBin]);
if (b.exitCode !== 0) throw new Error(`baseline build failed: ${b.stderr}`);

const results: { what: string; value: string }[] = [];
const add = (what: string, value: string) => {
  results.push({ what, value });
  console.error(`${what}: ${value}`);
};

add(
  "binary size (dist/vigil)",
  `${mib(statSync(BINARY).size).toFixed(1)} MiB (bare Bun baseline ${mib(statSync(baselineBin).size).toFixed(1)} MiB)`,
);

const base: number[] = [];
const cold: number[] = [];
const warm: number[] = [];
for (let i = 0; i < RUNS; i++) {
  let port = freePort();
  const bl = await timeToReady([baselineBin], { PORT: String(port) }, `http://127.0.0.1:${port}/`);
  base.push(bl.ms);
  await stop(bl.proc);

  const dataDir = join(work, `data-${i}`);
  port = freePort();
  const c = await timeToReady(
    [BINARY, "serve", "--listen", `127.0.0.1:${port}`],
    { VIGIL_DATA_DIR: dataDir },
    `http://127.0.0.1:${port}/healthz`,
  );
  cold.push(c.ms);
  await stop(c.proc);
  port = freePort();
  const w = await timeToReady(
    [BINARY, "serve", "--listen", `127.0.0.1:${port}`],
    { VIGIL_DATA_DIR: dataDir },
    `http://127.0.0.1:${port}/healthz`,
  );
  warm.push(w.ms);
  await stop(w.proc);
  rmSync(dataDir, { recursive: true, force: true });
}
add(`time to first 200, bare Bun baseline (median of ${RUNS})`, `${median(base).toFixed(0)} ms`);
add(`time to first /healthz 200, PGlite, first start incl. initdb (median of ${RUNS})`, `${median(cold).toFixed(0)} ms`);
add(
  `time to first /healthz 200, PGlite, existing data dir (median of ${RUNS})`,
  `${median(warm).toFixed(0)} ms (${(median(warm) / median(base)).toFixed(0)}x baseline)`,
);

async function idleRss(label: string, env: Record<string, string>) {
  const port = freePort();
  const r = await timeToReady([BINARY, "serve", "--listen", `127.0.0.1:${port}`], env, `http://127.0.0.1:${port}/healthz`);
  const samples: number[] = [];
  const deadline = performance.now() + IDLE_SECONDS * 1000;
  while (performance.now() < deadline) {
    await Bun.sleep(1000);
    samples.push(rssBytes(r.proc.pid));
  }
  await stop(r.proc);
  add(
    `idle RSS of vigil serve on ${label} after ${IDLE_SECONDS} s (local agent sampling every 1 s)`,
    `${mib(samples.at(-1)!).toFixed(0)} MiB (peak ${mib(Math.max(...samples)).toFixed(0)} MiB)`,
  );
}

const basePort = freePort();
const blIdle = await timeToReady([baselineBin], { PORT: String(basePort) }, `http://127.0.0.1:${basePort}/`);
await Bun.sleep(2000);
add("idle RSS, bare Bun baseline", `${mib(rssBytes(blIdle.proc.pid)).toFixed(0)} MiB`);
await stop(blIdle.proc);

await idleRss("PGlite, first start (initdb)", { VIGIL_DATA_DIR: join(work, "idle-pglite") });
await idleRss("PGlite, restart on the same data dir", { VIGIL_DATA_DIR: join(work, "idle-pglite") });
const pg = await startPostgres();
try {
  await idleRss("PostgreSQL 15 (vigil process only)", { DATABASE_URL: await pg.createDatabase("bench") });
} finally {
  await pg.stop();
}

rmSync(work, { recursive: true, force: true });
console.log(
  `\nMachine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log("| measure | value |\n|---|---|");
for (const r of results) console.log(`| ${r.what} | ${r.value} |`);

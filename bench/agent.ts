// Benchmark of the compiled agent: CPU time and RSS of `vigil agent --json` over 60 s at a 1 s interval, with 8 fake GPUs and with none.
// Usage: make build && bun bench/agent.ts [--seconds 60] [--binary PATH]. Prints a Markdown table for BENCHMARKS.md.
// --binary measures another build (e.g. `bun scripts/build.ts /tmp/x/vigil`); compare builds in one session.
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildFakeNvml } from "../test/fake-nvml/build.ts";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "60" }, scenario: { type: "string", default: "h100x8" }, binary: { type: "string" } },
});
const SECONDS = Number(values.seconds);
const REPO = resolve(import.meta.dir, "..");
const BINARY = values.binary ? resolve(values.binary) : join(REPO, "dist/vigil");
const TICKS = 100; // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s on Linux

function cpuSeconds(pid: number): number {
  // Fields 14 and 15 (utime, stime) after the ")" that ends the command name.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** VmRSS and its two parts: RssAnon (the JS heap, malloc, JIT code) and RssFile (pages of the binary itself). */
function rssMiB(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
  return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") };
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

/**
 * Drops the binary's pages from the page cache (GNU dd), so every run starts from the same state: with large folios
 * (Linux 6.x, ext4) a file just written sits in the page cache in large pieces and each page fault maps a whole piece,
 * which put 3-5 MiB of RssFile on a freshly built binary that the same bytes read back from disk do not have.
 */
function dropFromPageCache(path: string): void {
  Bun.spawnSync(["dd", `if=${path}`, "iflag=nocache", "count=0", "status=none"]);
}

async function run(label: string, env: Record<string, string>) {
  dropFromPageCache(BINARY);
  const proc = Bun.spawn([BINARY, "agent", "--json", "--interval", "1"], {
    env: { PATH: process.env.PATH!, ...env },
    stdout: "pipe",
    stderr: "ignore",
  });
  // Count the samples it prints, so the figure is per sample actually taken.
  let samples = 0;
  void (async () => {
    const reader = proc.stdout.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      for (const b of value) if (b === 10) samples++;
    }
  })();
  await Bun.sleep(3000); // start-up (binary load, NVML init) is not the steady state
  const cpu0 = cpuSeconds(proc.pid);
  const s0 = samples;
  const rss: { rss: number; anon: number; file: number }[] = [];
  const started = performance.now();
  while (performance.now() - started < SECONDS * 1000) {
    await Bun.sleep(1000);
    rss.push(rssMiB(proc.pid));
  }
  const wall = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(proc.pid) - cpu0;
  const taken = samples - s0;
  proc.kill("SIGTERM");
  await proc.exited;
  const row = {
    label,
    corePercent: (cpu / wall) * 100,
    msPerSample: (cpu * 1000) / Math.max(1, taken),
    rss: median(rss.map((r) => r.rss)),
    rssMax: Math.max(...rss.map((r) => r.rss)),
    anon: median(rss.map((r) => r.anon)),
    file: median(rss.map((r) => r.file)),
    samples: taken,
  };
  console.error(JSON.stringify(row));
  return row;
}

const lib = await buildFakeNvml("full");
const scenario = join(REPO, "test/fake-nvml/scenarios", `${values.scenario}.scenario`);
const none = await run("no GPU source (NVML missing, no nvidia-smi)", {
  VIGIL_NVML_LIB: "/nonexistent/libnvidia-ml.so.1",
  VIGIL_NVIDIA_SMI: "/nonexistent/nvidia-smi",
});
const eight = await run(`8 fake GPUs through NVML (${values.scenario})`, { VIGIL_NVML_LIB: lib, FAKE_NVML_SCENARIO: scenario });

console.log(
  `\nMachine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}, ${SECONDS} s each, ${BINARY}\n`,
);
console.log(
  "| agent (compiled, --interval 1) | CPU, % of one core | CPU per sample | RSS median (max) | RssAnon / RssFile | samples |\n|---|---|---|---|---|---|",
);
for (const r of [none, eight]) {
  console.log(
    `| ${r.label} | ${r.corePercent.toFixed(2)} % | ${r.msPerSample.toFixed(2)} ms | ${r.rss.toFixed(1)} MiB (${r.rssMax.toFixed(1)}) | ${r.anon.toFixed(1)} / ${r.file.toFixed(1)} MiB | ${r.samples} |`,
  );
}

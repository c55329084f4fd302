// Benchmark of the compiled agent: CPU time and RSS of `vigil agent --json` over 60 s at a 1 s interval, with 8 fake GPUs and with none.
// Usage: make build && bun bench/agent.ts [--seconds 60]. Prints a Markdown table for BENCHMARKS.md.
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildFakeNvml } from "../test/fake-nvml/build.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "60" }, scenario: { type: "string", default: "h100x8" } } });
const SECONDS = Number(values.seconds);
const REPO = resolve(import.meta.dir, "..");
const BINARY = join(REPO, "dist/vigil");
const TICKS = 100; // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s on Linux

function cpuSeconds(pid: number): number {
  // Fields 14 and 15 (utime, stime) after the ")" that ends the command name.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) / 1024;
}

async function run(label: string, env: Record<string, string>) {
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
  const rss: number[] = [];
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
    rss: rss.sort((a, b) => a - b)[Math.floor(rss.length / 2)]!,
    rssMax: Math.max(...rss),
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
  `\nMachine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}, ${SECONDS} s each\n`,
);
console.log("| agent (compiled, --interval 1) | CPU, % of one core | CPU per sample | RSS median (max) | samples |\n|---|---|---|---|---|");
for (const r of [none, eight]) {
  console.log(
    `| ${r.label} | ${r.corePercent.toFixed(2)} % | ${r.msPerSample.toFixed(2)} ms | ${r.rss.toFixed(0)} MiB (${r.rssMax.toFixed(0)}) | ${r.samples} |`,
  );
}

// Fleet page render benchmark: server time to render the worker cards of 100 workers x 8 GPUs, beside an empty page as the baseline.
// Usage: bun bench/render.tsx [--workers 100] [--gpus 8] [--runs 300]. Prints a Markdown table for BENCHMARKS.md.
import Html from "@kitajs/html";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import type { WorkerSummary } from "../src/fleet/workers.ts";
import { recentPointOf } from "../src/ingest/latest.ts";
import { FleetCards, type FleetQuery } from "../views/partials/fleet-cards.tsx";
import type { CardData } from "../views/partials/worker-card.tsx";
import { Layout } from "../views/layout.tsx";
import { makeGpu, makeSample } from "../test/fixtures/samples.ts";

const { values } = parseArgs({
  options: {
    workers: { type: "string", default: "100" },
    gpus: { type: "string", default: "8" },
    runs: { type: "string", default: "300" },
  },
});
const WORKERS = Number(values.workers);
const GPUS = Number(values.gpus);
const RUNS = Number(values.runs);

const now = Date.now();
const cards: CardData[] = Array.from({ length: WORKERS }, (_, w) => {
  const sample = makeSample(1000 + w, { gpus: GPUS, hostname: `gpu-${w}` });
  sample.gpus = sample.gpus.map((g, i) =>
    makeGpu(i, { utilization: (w * 7 + i * 13) % 101, temperature: 40 + ((w + i) % 50), memoryUsed: ((w + i) % 10) * 8000 }),
  );
  const worker: WorkerSummary = {
    id: w + 1,
    name: `gpu-${String(w).padStart(3, "0")}`,
    kind: "remote",
    hostname: `gpu-${w}.lab`,
    status: w % 25 === 0 ? "offline" : "online",
    lastSeenAt: new Date(now - 1000).toISOString(),
    intervalSeconds: 1,
    gpuCount: GPUS,
    createdAt: new Date(now - 86400_000).toISOString(),
  };
  const recent = Array.from({ length: 60 }, (_, k) => recentPointOf({ ...sample, ts: new Date(now - (60 - k) * 1000).toISOString() }));
  return { worker, sample, recent, simulated: false };
});
const query: FleetQuery = { q: "", sort: "load" };
const viewer = { name: "admin", role: "admin" as const };

function time(fn: () => string | Promise<string>): Promise<{ median: number; p95: number; bytes: number }> {
  return (async () => {
    const t: number[] = [];
    let bytes = 0;
    for (let i = 0; i < RUNS + 20; i++) {
      const s = performance.now();
      const html = await fn();
      const ms = performance.now() - s;
      if (i >= 20) t.push(ms); // warm-up: JIT
      bytes = html.length;
    }
    t.sort((a, b) => a - b);
    return { median: t[Math.floor(t.length / 2)]!, p95: t[Math.ceil(t.length * 0.95) - 1]!, bytes };
  })();
}

const empty = await time(() => <Layout title="Fleet" viewer={viewer}></Layout>);
const cardsOnly = await time(() => <FleetCards cards={cards} query={query} now={now} />);
const page = await time(() => (
  <Layout title="Fleet" viewer={viewer}>
    <FleetCards cards={cards} query={query} now={now} />
  </Layout>
));

console.log(
  `\n### Fleet page render (${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Bun ${Bun.version})`,
);
console.log(`\`bun bench/render.tsx --workers ${WORKERS} --gpus ${GPUS} --runs ${RUNS}\`\n`);
console.log("| render | median | p95 | HTML |");
console.log("|---|---:|---:|---:|");
for (const [name, r] of [
  ["empty page (baseline)", empty],
  [`worker cards, ${WORKERS} x ${GPUS} GPUs`, cardsOnly],
  [`whole fleet page, ${WORKERS} x ${GPUS} GPUs`, page],
] as const) {
  console.log(`| ${name} | ${r.median.toFixed(2)} ms | ${r.p95.toFixed(2)} ms | ${(r.bytes / 1024).toFixed(0)} KiB |`);
}

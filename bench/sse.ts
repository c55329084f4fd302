// SSE benchmark: N browsers' live streams of the fleet page held by one head (its own process) at 1 update/s, with the head's CPU and RSS.
// Usage: make build && bun bench/sse.ts [--clients 1000] [--seconds 30] [--workers 12] [--gpus 8] [--from-source]. Prints a Markdown table for BENCHMARKS.md.
import { readFileSync, rmSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SseParser } from "../src/live/sse.ts";
import { freePort, tempDir, vigilFromSource } from "../test/harness/process.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "1000" },
    seconds: { type: "string", default: "30" },
    workers: { type: "string", default: "12" },
    gpus: { type: "string", default: "8" },
    view: { type: "string", default: "fleet" },
    "from-source": { type: "boolean", default: false },
  },
});
// Bun's fetch holds at most 256 requests at once by default and queues the rest: a stream never finishes, so
// client 257 would wait forever. The limit is read at start-up, so the benchmark runs itself again with it raised.
if (!process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) {
  const self = Bun.spawn([process.execPath, ...process.argv.slice(1)], {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "65000" },
    stdio: ["inherit", "inherit", "inherit"],
  });
  process.exit(await self.exited);
}

const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const WORKERS = Number(values.workers);
const GPUS = Number(values.gpus);
const VIEW = values.view;
/** Clients connecting at once: a page load storm is not what this measures, holding them is. */
const CONNECT_BATCH = 100;
const WARMUP_S = 5;
const VIGIL = values["from-source"] ? vigilFromSource() : [resolve(import.meta.dir, "../dist/vigil")];
const PASSWORD = "bench-password-1";
const CLK_TCK = 100; // Linux's USER_HZ for /proc/PID/stat times, 100 on every mainstream kernel.

const work = tempDir("vigil-bench-sse-");
const port = freePort();
const url = `http://127.0.0.1:${port}`;
const env = {
  PATH: process.env.PATH!,
  HOME: process.env.HOME ?? "/tmp",
  VIGIL_DATA_DIR: join(work, "data"),
  VIGIL_ADMIN_PASSWORD: PASSWORD,
};

async function run(args: string[]): Promise<string> {
  const p = Bun.spawn([...VIGIL, ...args], { env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`vigil ${args[0]} exited ${code}: ${err}`);
  return out.trim();
}

/** The head's CPU seconds so far (user + system) and its resident memory, from /proc. */
function headUsage(pid: number): { cpuSeconds: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds, rssMiB: rssKiB / 1024 };
}

interface Client {
  messages: number;
  bytes: number;
  /** Arrival time of each broadcast by its id (the head's tick). */
  arrivals: Map<string, number>;
  ended: boolean;
}

async function connect(cookie: string, abort: AbortSignal): Promise<Client> {
  const res = await Promise.race([
    fetch(`${url}/events?view=${encodeURIComponent(VIEW)}`, { headers: { cookie }, signal: abort }),
    Bun.sleep(30_000).then(() => {
      throw new Error("GET /events: no answer within 30 s");
    }),
  ]);
  if (res.status !== 200) throw new Error(`GET /events: HTTP ${res.status} ${await res.text()}`);
  const c: Client = { messages: 0, bytes: 0, arrivals: new Map(), ended: false };
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        c.bytes += value.byteLength;
        const at = performance.now();
        for (const m of parser.push(decoder.decode(value, { stream: true }))) {
          if (m.data === "") continue;
          c.messages++;
          if (m.id !== undefined) c.arrivals.set(m.id, at);
        }
      }
    } catch {
      /* aborted at the end of the run */
    } finally {
      c.ended = true;
    }
  })();
  return c;
}

const head = Bun.spawn([...VIGIL, "serve", "--listen", `127.0.0.1:${port}`, "--no-local-agent"], { env, stdout: "ignore", stderr: "pipe" });
let headLog = "";
void new Response(head.stderr).text().then((t) => (headLog = t));
let sim: ReturnType<typeof Bun.spawn> | undefined;
const abort = new AbortController();
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* starting */
    }
    if (i > 600 || head.exitCode !== null) throw new Error(`head did not start: ${headLog}`);
    await Bun.sleep(100);
  }
  const token = await run(["token", "create", "--name", "bench", "--role", "admin"]);
  sim = Bun.spawn(
    [
      ...VIGIL,
      "simulate",
      "--head",
      url,
      "--token",
      token,
      "--workers",
      String(WORKERS),
      "--gpus",
      String(GPUS),
      "--interval",
      "1",
      "--duration",
      String(SECONDS + WARMUP_S + 120),
    ],
    { env, stdout: "ignore", stderr: "ignore" },
  );
  const login = await fetch(`${url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: url },
    body: new URLSearchParams({ name: "admin", password: PASSWORD, next: "/" }),
  });
  const cookie = login.headers.getSetCookie()[0]?.split(";")[0];
  if (!cookie) throw new Error(`sign-in failed: HTTP ${login.status}`);
  // Let the simulated fleet register before the clients come.
  for (let i = 0; i < 300; i++) {
    const page = await (await fetch(`${url}/`, { headers: { cookie } })).text();
    if ((page.match(/data-worker=/g) ?? []).length >= WORKERS) break;
    await Bun.sleep(100);
  }

  const clients: Client[] = [];
  const connectStarted = performance.now();
  for (let i = 0; i < CLIENTS; i += CONNECT_BATCH) {
    const batch = Array.from({ length: Math.min(CONNECT_BATCH, CLIENTS - i) }, () => connect(cookie, abort.signal));
    clients.push(...(await Promise.all(batch)));
  }
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  console.error(`${CLIENTS} streams open in ${connectSeconds.toFixed(1)} s; measuring for ${SECONDS} s after ${WARMUP_S} s of warm-up`);
  await Bun.sleep(WARMUP_S * 1000);

  const before = headUsage(head.pid);
  const counted = clients.map((c) => ({ messages: c.messages, bytes: c.bytes }));
  const firstCounted = performance.now();
  const started = performance.now();
  let peakRss = before.rssMiB;
  while (performance.now() - started < SECONDS * 1000) {
    await Bun.sleep(1000);
    peakRss = Math.max(peakRss, headUsage(head.pid).rssMiB);
  }
  const after = headUsage(head.pid);
  const wall = (performance.now() - started) / 1000;

  const perClient = clients.map((c, i) => (c.messages - counted[i]!.messages) / wall);
  const bytesPerClient = clients.reduce((s, c, i) => s + c.bytes - counted[i]!.bytes, 0) / clients.length / wall;
  // Fan-out spread: each broadcast (by id) of the measured window, from the first client that got it to the last.
  const spreads: number[] = [];
  for (const [id, first] of clients[0]!.arrivals) {
    if (first < firstCounted) continue;
    let lo = Infinity;
    let hi = -Infinity;
    for (const c of clients) {
      const at = c.arrivals.get(id);
      if (at === undefined) continue;
      lo = Math.min(lo, at);
      hi = Math.max(hi, at);
    }
    spreads.push(hi - lo);
  }
  spreads.sort((a, b) => a - b);
  const pct = (q: number) => (spreads.length ? spreads[Math.min(spreads.length - 1, Math.floor(q * spreads.length))]! : NaN);
  const lost = clients.filter((c) => c.ended).length;
  const cpuPercent = ((after.cpuSeconds - before.cpuSeconds) / wall) * 100;
  perClient.sort((a, b) => a - b);

  console.log(
    `\nMachine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}; ` +
      `head ${values["from-source"] ? "from source" : "dist/vigil"} on PGlite, ${WORKERS} simulated workers x ${GPUS} GPUs at 1 sample/s, view "${VIEW}"; ` +
      `${CLIENTS} clients in this process connected in ${connectSeconds.toFixed(1)} s, ${WARMUP_S} s warm-up, measured over ${wall.toFixed(1)} s\n`,
  );
  console.log(
    "| SSE clients | messages/client/s (min / median) | KiB/client/s | fan-out spread p50 / max | head CPU (% of one core) | head RSS end / peak | streams lost |",
  );
  console.log("|---|---|---|---|---|---|---|");
  console.log(
    `| ${CLIENTS.toLocaleString("en")} | ${perClient[0]!.toFixed(2)} / ${perClient[Math.floor(perClient.length / 2)]!.toFixed(2)} | ${(bytesPerClient / 1024).toFixed(1)} | ` +
      `${pct(0.5).toFixed(0)} / ${pct(1).toFixed(0)} ms | ${cpuPercent.toFixed(1)} % | ${after.rssMiB.toFixed(0)} / ${peakRss.toFixed(0)} MiB | ${lost} |`,
  );
} finally {
  abort.abort();
  sim?.kill("SIGTERM");
  await sim?.exited;
  head.kill("SIGTERM");
  await head.exited;
  rmSync(work, { recursive: true, force: true });
}

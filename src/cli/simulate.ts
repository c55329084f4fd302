// `vigil simulate`: a synthetic fleet that enrolls and pushes samples over the real agent protocol, for demos and load tests.
import { ConfigError, parseCommandConfig } from "../config.ts";
import { log, setLogLevel } from "../log.ts";
import { MAX_BATCH_SAMPLES as MAX_BATCH, type HeadMessage, type RestartCommand } from "../protocol/messages.ts";
import type { Sample } from "../protocol/sample.ts";
import { DEMO_HISTORY_SECONDS, DEMO_HISTORY_STEP_SECONDS, DEMO_OFFLINE_GAP_SECONDS } from "../sim/demo.ts";
import { simulatedFleet, type SimulatedWorker } from "../sim/fleet.ts";
import { HeatedWorker } from "../sim/heat.ts";
import { VERSION } from "../version.ts";
import type { Command } from "./command.ts";

const settings = [
  "head",
  "simHeads",
  "token",
  "simWorkers",
  "simGpus",
  "interval",
  "simBatch",
  "duration",
  "simDemo",
  "simHeat",
  "logLevel",
] as const;

/** History goes in batches this big (a sample of 8 GPUs with processes is about 10 KB), with at most this many unacknowledged. */
const HISTORY_BATCH = 100;
const HISTORY_IN_FLIGHT = 300;

interface Agent {
  sim: SimulatedWorker;
  name: string;
  secret: string;
  /** When the head last heard from it, from a previous run: the demo's history starts after it. */
  lastSeenAt: string | null;
  ws?: WebSocket;
  seq: number;
  sent: number;
  /** Sent and not yet acknowledged (as JSON), by seq: what a `busy` answer asks to send again. */
  pending: Map<number, string>;
  lastTs: number | null;
}

/** One batch message from samples already in JSON. */
function sendBatch(ws: WebSocket, samples: string[]): void {
  ws.send(`{"type":"batch","samples":[${samples.join(",")}]}`);
}

export const simulateCommand: Command = {
  name: "simulate",
  summary: "run a synthetic fleet against a head through the real agent protocol (demo data, load tests)",
  usage:
    "vigil simulate --head URL [--spread-to URL,...] --token ADMIN_API_TOKEN [--workers N] [--gpus M] [--interval S] [--batch K] [--duration S] [--demo]",
  settings,
  details:
    "Registers workers named sim-0001... with the admin token (rotating them when they exist), enrolls each,\n" +
    "and sends one sample per worker per interval (K per message with --batch). Prints the acknowledged rate\n" +
    "every 5 s and a summary at the end: samples and GPU samples per second committed by the head.\n" +
    "With --demo the fleet is lifelike instead (make demo uses it): training, inference, notebook and idle\n" +
    "workers with GPU processes of named users and containers, one GPU above 85 C, the last worker sending\n" +
    "only its history and then falling silent (offline), 2 h of history, samples stamped with the real\n" +
    "time, and restarts of a few units played through to completed (nothing runs). Every simulated sample\n" +
    "carries host.simulated = true, so pages can label these workers as simulated.\n" +
    "--heat W:G@START+DURATION[=CELSIUS] holds one GPU hot for a while (an alert to watch fire and recover).",
  async run(argv) {
    const { config } = parseCommandConfig("simulate", settings, argv);
    setLogLevel(config.logLevel);
    if (!config.head) throw new ConfigError("simulate: say which head with --head URL");
    // Several heads on one database: workers connect round robin, as agents behind a load balancer land.
    const heads = [config.head, ...(config.simHeads ?? [])];
    if (!config.token) throw new ConfigError("simulate: give an admin API token with --token (vigil token create --name sim --role admin)");
    const head = config.head;
    const demo = config.simDemo;
    const api = async (path: string, body?: unknown) => {
      const r = await fetch(`${head}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { authorization: `Bearer ${config.token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json().catch(() => ({}))) as Record<string, unknown> };
    };

    // Register (or re-register) and enroll every worker.
    const existing = ((await api("/api/v1/workers")).body.workers ?? []) as { id: number; name: string; lastSeenAt: string | null }[];
    if (!Array.isArray(existing)) throw new ConfigError("simulate: the head refused the token (it needs the admin role)");
    const fleet: Agent[] = [];
    const heat = config.simHeat;
    if (heat && (heat.worker > config.simWorkers || heat.gpu >= config.simGpus))
      throw new ConfigError(
        `simulate: --heat names sim-${String(heat.worker).padStart(4, "0")} GPU ${heat.gpu}, beyond the simulated fleet`,
      );
    const sims = simulatedFleet(config.simWorkers, config.simGpus, demo).map((w, i) =>
      heat && heat.worker === i + 1 ? new HeatedWorker(w, heat) : w,
    );
    for (const sim of sims) {
      const name = sim.name;
      const known = existing.find((w) => w.name === name);
      const t = known ? await api(`/api/v1/workers/${known.id}/rotate`, {}) : await api("/api/v1/workers", { name });
      if (t.status >= 300) throw new Error(`could not register ${name}: HTTP ${t.status} ${JSON.stringify(t.body)}`);
      const e = await fetch(`${head}/api/v1/agent/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: t.body.enrollmentToken, hostname: name, machineId: `simulated-${name}`, version: VERSION }),
      });
      const cred = (await e.json()) as { secret?: string; error?: string };
      if (!cred.secret) throw new Error(`could not enroll ${name}: ${cred.error ?? e.status}`);
      fleet.push({
        sim,
        name,
        secret: cred.secret,
        lastSeenAt: known?.lastSeenAt ?? null,
        seq: 0,
        sent: 0,
        pending: new Map(),
        lastTs: null,
      });
    }
    console.error(
      `simulating ${fleet.length} workers x ${config.simGpus} GPUs every ${config.interval}s (${config.simBatch} samples per message)${demo ? " as a demo fleet" : ""} against ${heads.join(", ")}`,
    );

    let acked = 0;
    let rejected = 0;
    let busy = 0;
    const send = (w: Agent, samples: { seq: number; json: string }[]) => {
      for (const s of samples) w.pending.set(s.seq, s.json);
      w.sent += samples.length;
      sendBatch(
        w.ws!,
        samples.map((s) => s.json),
      );
    };
    // The load test stamps samples from a virtual clock advancing one interval per sample (so a batch of K is K distinct
    // instants, never in the future); the demo uses the real time, so "last seen" and history charts read true.
    const base = Date.now() - 3_600_000;
    const next = (w: Agent, at?: number): Sample => {
      const seq = w.seq++;
      const ts = demo ? (at ?? Date.now()) : base + seq * config.interval * 1000;
      const sample = w.sim.sample(seq, new Date(ts), w.lastTs === null ? config.interval : (ts - w.lastTs) / 1000);
      w.lastTs = ts;
      return sample;
    };

    const wsUrls = heads.map((h) => `${h.replace(/^http/, "ws")}/api/v1/agent/ws`);
    await Promise.all(
      fleet.map(
        (w, i) =>
          new Promise<void>((resolve, reject) => {
            const headers: Record<string, string> = {
              authorization: `Bearer ${w.secret}`,
              "x-vigil-version": VERSION,
              "x-vigil-interval": String(config.interval),
            };
            if (w.sim.restartAllow) headers["x-vigil-restart-allow"] = w.sim.restartAllow.join(",");
            const wsUrl = wsUrls[i % wsUrls.length]!;
            const ws = new WebSocket(wsUrl, { headers } as unknown as string[]);
            w.ws = ws;
            ws.onopen = () => resolve();
            ws.onerror = () => reject(new Error(`${w.name}: WebSocket to ${wsUrl} failed`));
            ws.onmessage = (m) => {
              const msg = JSON.parse(String(m.data)) as HeadMessage;
              if (msg.type === "ack") {
                acked += msg.seqs.length;
                for (const seq of msg.seqs) w.pending.delete(seq);
              } else if (msg.type === "reject") {
                rejected += msg.seqs.length;
                for (const seq of msg.seqs) w.pending.delete(seq);
              } else if (msg.type === "busy") {
                // As a real agent does: keep the samples and send them again when the head says.
                busy += msg.seqs.length;
                setTimeout(() => {
                  const again = msg.seqs.map((seq) => w.pending.get(seq)).filter((s): s is string => s !== undefined);
                  for (let i = 0; i < again.length; i += MAX_BATCH) sendBatch(ws, again.slice(i, i + MAX_BATCH));
                }, msg.retryAfterMs);
              } else if (msg.type === "restart") playRestart(ws, w, msg);
            };
          }),
      ),
    );

    let stop = false;
    process.on("SIGINT", () => (stop = true));
    process.on("SIGTERM", () => (stop = true));

    // The demo's past is made before its present (each worker's vitals move on from where its history ends) and
    // sent while the present already flows, so the pages look live from the first second.
    let history: Promise<unknown> = Promise.resolve();
    if (demo) {
      const now = Date.now();
      const pasts = fleet.map((w) => pastOf(w, now, next));
      history = Promise.all(
        fleet.map(async (w, i) => {
          await sendHistory(w, pasts[i]!, send, () => stop);
          if (!w.sim.goesOffline) return;
          // Its history is in; from now on it is silent, and the head marks it offline.
          while (w.pending.size && !stop) await Bun.sleep(50);
          w.ws!.close(1000, "simulated outage");
          console.error(`${w.name} goes offline (simulated outage): it sends nothing more`);
        }),
      ).then(() => {
        const total = pasts.reduce((n, p) => n + p.length, 0);
        console.error(`sent ${total} samples of history (${DEMO_HISTORY_SECONDS / 3600} h at ${DEMO_HISTORY_STEP_SECONDS} s steps)`);
      });
    }
    const live = fleet.filter((w) => !w.sim.goesOffline);
    const serialized = (w: Agent) => {
      const sample = next(w);
      return { seq: sample.seq, json: JSON.stringify(sample) };
    };

    const started = performance.now();
    let lastReport = started;
    let ackedAtReport = 0;
    while (!stop && (!config.duration || performance.now() - started < config.duration * 1000)) {
      const tickStart = performance.now();
      for (const w of live) {
        const samples = [];
        for (let k = 0; k < config.simBatch; k++) samples.push(serialized(w));
        send(w, samples);
      }
      const now = performance.now();
      if (now - lastReport >= 5000) {
        const rate = ((acked - ackedAtReport) * 1000) / (now - lastReport);
        console.error(
          `acked ${rate.toFixed(0)} samples/s (${(rate * config.simGpus).toFixed(0)} GPU samples/s), ${rejected} rejected, ${busy} sent again after busy`,
        );
        lastReport = now;
        ackedAtReport = acked;
      }
      await Bun.sleep(Math.max(0, config.interval * 1000 - (performance.now() - tickStart)));
    }
    // Let in-flight batches be acknowledged before counting.
    await history;
    const sent = fleet.reduce((n, w) => n + w.sent, 0);
    const drainUntil = performance.now() + 60_000;
    // Only a socket still open can bring an answer: a head stopped by the same Ctrl-C acknowledges nothing more.
    const awaited = () => fleet.some((w) => w.pending.size > 0 && w.ws?.readyState === WebSocket.OPEN);
    while (acked + rejected < sent && awaited() && performance.now() < drainUntil) await Bun.sleep(100);
    const seconds = (performance.now() - started) / 1000;
    for (const w of live) w.ws?.close(1000, "simulation over");
    const summary = {
      workers: fleet.length,
      gpusPerWorker: config.simGpus,
      seconds: Math.round(seconds * 10) / 10,
      sent,
      acked,
      rejected,
      busy,
      samplesPerSecond: Math.round(acked / seconds),
      gpuSamplesPerSecond: Math.round((acked * config.simGpus) / seconds),
    };
    console.log(JSON.stringify(summary));
    log.debug("simulation finished", summary);
    return acked === sent ? 0 : 1;
  },
};

/**
 * The demo's past: samples every DEMO_HISTORY_STEP_SECONDS over the last hours, after what an earlier run left (so a
 * second `make demo` does not interleave two pasts); the offline worker's stops DEMO_OFFLINE_GAP_SECONDS early.
 */
function pastOf(w: Agent, now: number, next: (w: Agent, at: number) => Sample): { seq: number; json: string }[] {
  const step = DEMO_HISTORY_STEP_SECONDS * 1000;
  const before = w.lastSeenAt ? Date.parse(w.lastSeenAt) + step : 0;
  const from = Math.max(now - DEMO_HISTORY_SECONDS * 1000, before);
  const until = w.sim.goesOffline ? now - DEMO_OFFLINE_GAP_SECONDS * 1000 : now - step / 2;
  const out = [];
  for (let at = from; at < until; at += step) {
    const sample = next(w, at);
    out.push({ seq: sample.seq, json: JSON.stringify(sample) });
  }
  return out;
}

/** Sends a past in batches, holding back while too much of it is unacknowledged. */
async function sendHistory(
  w: Agent,
  past: { seq: number; json: string }[],
  send: (w: Agent, samples: { seq: number; json: string }[]) => void,
  stopped: () => boolean,
): Promise<void> {
  for (let i = 0; i < past.length && !stopped(); i += HISTORY_BATCH) {
    send(w, past.slice(i, i + HISTORY_BATCH));
    while (w.pending.size > HISTORY_IN_FLIGHT && !stopped()) await Bun.sleep(20);
  }
}

/**
 * A simulated worker runs nothing. A load-test worker refuses restarts; a demo worker plays one of its units through
 * the states a real agent reports, so the restart dialog has something to show.
 */
function playRestart(ws: WebSocket, w: Agent, msg: RestartCommand): void {
  const status = (state: string, message: string) =>
    ws.send(JSON.stringify({ type: "restart-status", id: msg.id, state, message, at: new Date().toISOString() }));
  if (!w.sim.restartAllow) return status("refused", "simulated worker");
  if (!w.sim.restartAllow.includes(msg.service)) return status("refused", `${msg.service} is not on this worker's allow-list`);
  const steps: [number, string, string][] = [
    [300, "stopping", `stopping ${msg.service} (simulated)`],
    [1500, "restarting", `starting ${msg.service} (simulated)`],
    [3000, "completed", `${msg.service} is active (simulated: nothing was restarted)`],
  ];
  for (const [after, state, message] of steps)
    setTimeout(() => {
      if (ws.readyState === WebSocket.OPEN) status(state, message);
    }, after);
}

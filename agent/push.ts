// The agent's link to the head: enroll once, then spool every sample and push it over the WebSocket until the head acks it.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import type { Logger } from "../src/log.ts";
import {
  MAX_BATCH_SAMPLES,
  parseHeadMessage,
  probeProblem,
  type AgentMessage,
  type HeadMessage,
  type ProbeCommand,
  type RestartCommand,
  type UpdateNotice,
} from "../src/protocol/messages.ts";
import type { Sample } from "../src/protocol/sample.ts";
import { createProbeRunner, probeSettingsFromEnv, type ProbeRunner } from "./probe/index.ts";
import { Spool } from "./spool.ts";

export interface Credential {
  head: string;
  workerId: number;
  name: string;
  secret: string;
  /** sha256 of the enrollment token that produced it, so a new token in the config is noticed. */
  tokenHash: string | null;
}

export interface PushOptions {
  head: string;
  /** Holds credential.json and the spool; VIGIL_AGENT_DIR. */
  stateDir: string;
  token?: string;
  version: string;
  intervalSeconds: number;
  /** Units this agent may restart, told to the head so people see what they can ask for. */
  restartAllow?: readonly string[];
  /** Takes one sample with the given sequence number base (the spool decides where numbering continues). */
  sample: () => Promise<Sample>;
  setNextSeq: (seq: number) => void;
  spoolMaxBytes?: number;
  spoolMaxAgeMs?: number;
  onRestart?: (cmd: RestartCommand, report: (m: AgentMessage) => void) => void;
  onUpdate?: (notice: UpdateNotice) => void;
  /**
   * Runs the head's probes (unit state, HTTP/TCP from this side, disks, files, logs). Without it, the
   * logs of the units on restartAllow and the files under VIGIL_PROBE_PATHS may be read.
   */
  probe?: ProbeRunner;
  log: Logger;
  /** The clock of the outage log (tests move it). */
  now?: () => number;
}

export class EnrollmentFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EnrollmentFailed";
  }
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

function machineId(): string | null {
  for (const p of ["/etc/machine-id", "/var/lib/dbus/machine-id"]) {
    try {
      return readFileSync(p, "utf8").trim() || null;
    } catch {
      /* next */
    }
  }
  return null;
}

export function loadCredential(stateDir: string): Credential | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, "credential.json"), "utf8")) as Credential;
  } catch {
    return undefined;
  }
}

function saveCredential(stateDir: string, c: Credential): void {
  const tmp = join(stateDir, `credential.json.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(c, null, 2), { mode: 0o600 });
  renameSync(tmp, join(stateDir, "credential.json"));
}

/** Exchanges the enrollment token for the agent's own secret (once; kept in the state directory). */
export async function enrollAgent(head: string, token: string, version: string): Promise<Omit<Credential, "head" | "tokenHash">> {
  const res = await fetch(`${head}/api/v1/agent/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, hostname: hostname(), machineId: machineId(), version }),
  });
  const body = (await res.json().catch(() => ({}))) as { workerId?: number; name?: string; secret?: string; error?: string };
  if (res.status === 403 || res.status === 400)
    throw new EnrollmentFailed(`the head refused the enrollment token: ${body.error ?? res.status}`);
  if (!res.ok || !body.secret || !body.workerId || !body.name)
    throw new Error(`enrollment failed: HTTP ${res.status} ${body.error ?? ""}`.trim());
  return { workerId: body.workerId, name: body.name, secret: body.secret };
}

/** Capped exponential backoff with full jitter: many agents reconnecting after a head restart do not arrive together. */
export function backoffMs(attempt: number, baseMs = 500, capMs = 30_000): number {
  return Math.round(Math.random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 16)));
}

/** Between reports of one outage: a head away for hours writes a line a minute, not one per retry. */
export const OUTAGE_LOG_EVERY_MS = 60_000;

/**
 * The log of a head that cannot be reached: the first failure at once (with its reason and the next
 * retry), then at most one line a minute while it lasts, and one line when the head answers again.
 */
export class OutageLog {
  private since: number | undefined;
  private failures = 0;
  private loggedAt = 0;

  constructor(
    private readonly log: Logger,
    private readonly context: Record<string, unknown>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The outage began earlier (a dropped connection, logged on its own): its first failure is still told. */
  begin(): void {
    this.since ??= this.now();
  }

  failed(reason: string, retryInMs: number): void {
    const t = this.now();
    this.failures++;
    const first = this.failures === 1;
    this.since ??= t;
    if (!first && t - this.loggedAt < OUTAGE_LOG_EVERY_MS) return;
    this.loggedAt = t;
    const downForSeconds = Math.round((t - this.since) / 1000);
    this.log.warn(first ? "cannot reach the head; retrying" : "still cannot reach the head; retrying", {
      ...this.context,
      error: reason,
      retryInMs,
      ...(first ? {} : { downForSeconds, failures: this.failures }),
    });
  }

  /** The head answered: says how long it was away, if it was. */
  recovered(): void {
    if (this.since === undefined) return;
    const downForSeconds = Math.round((this.now() - this.since) / 1000);
    if (this.failures > 0)
      this.log.info(`connected again after ${downForSeconds} s`, { ...this.context, downForSeconds, failures: this.failures });
    this.since = undefined;
    this.failures = 0;
    this.loggedAt = 0;
  }
}

export interface RunningAgent {
  readonly credential: Credential;
  readonly spool: Spool;
  readonly connected: boolean;
  stop(): Promise<void>;
}

/** Most batches on the wire at once; acks free them. */
const WINDOW = 4;
/** Newest samples sent ahead of the backlog on each turn, so the dashboard shows the present first. */
const LIVE_FIRST = 5;

export async function startPushAgent(opts: PushOptions): Promise<RunningAgent> {
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  let credential = loadCredential(opts.stateDir);
  const tokenHash = opts.token ? sha256(opts.token) : null;
  // A new token in the configuration (re-install after rotate) replaces the old credential.
  const needEnroll = !credential || credential.head !== opts.head || (tokenHash !== null && credential.tokenHash !== tokenHash);
  if (needEnroll) {
    if (!opts.token)
      throw new EnrollmentFailed(
        `no credential in ${opts.stateDir} and no enrollment token; run 'vigil worker add NAME' on the head and pass --token`,
      );
    const outage = new OutageLog(opts.log, { head: opts.head, during: "enrollment" }, opts.now);
    for (let attempt = 0; ; attempt++) {
      try {
        const c = await enrollAgent(opts.head, opts.token, opts.version);
        outage.recovered();
        credential = { ...c, head: opts.head, tokenHash };
        saveCredential(opts.stateDir, credential);
        opts.log.info("enrolled with the head", { worker: c.name, head: opts.head });
        break;
      } catch (err) {
        if (err instanceof EnrollmentFailed) throw err;
        const wait = backoffMs(attempt);
        outage.failed((err as Error).message ?? String(err), wait);
        await Bun.sleep(wait);
      }
    }
  }
  const cred = credential!;
  const spool = await Spool.open({
    dir: join(opts.stateDir, "spool"),
    maxBytes: opts.spoolMaxBytes,
    maxAgeMs: opts.spoolMaxAgeMs,
    log: opts.log,
  });
  opts.setNextSeq(spool.nextSeq());

  let stopped = false;
  let ws: WebSocket | undefined;
  let open = false;
  let attempt = 0;
  let pausedUntil = 0;
  const inFlight = new Map<number, Set<number>>(); // batch id -> seqs not yet answered
  const batchOf = new Map<number, number>(); // seq -> batch id
  let nextBatch = 1;
  let flushing = false;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let credentialRefusedLogged = false;
  const outage = new OutageLog(opts.log, { head: opts.head }, opts.now);

  const wsUrl = `${opts.head.replace(/^http/, "ws")}/api/v1/agent/ws`;
  const runProbe = opts.probe ?? createProbeRunner(probeSettingsFromEnv(opts.restartAllow ?? []));

  const send = (m: AgentMessage) => {
    if (ws && open) ws.send(JSON.stringify(m));
  };

  const settle = (seqs: number[]) => {
    for (const seq of seqs) {
      const b = batchOf.get(seq);
      if (b === undefined) continue;
      batchOf.delete(seq);
      const set = inFlight.get(b);
      set?.delete(seq);
      if (set && set.size === 0) inFlight.delete(b);
    }
  };

  const releaseAll = () => {
    const seqs = [...batchOf.keys()];
    spool.release(seqs);
    inFlight.clear();
    batchOf.clear();
  };

  const sendBatch = (samples: Sample[]) => {
    if (!samples.length) return;
    const id = nextBatch++;
    inFlight.set(id, new Set(samples.map((s) => s.seq)));
    for (const s of samples) batchOf.set(s.seq, id);
    send({ type: "batch", samples });
  };

  const flush = async () => {
    if (flushing || !open || stopped || Date.now() < pausedUntil) return;
    flushing = true;
    try {
      while (open && inFlight.size < WINDOW && Date.now() >= pausedUntil) {
        const live = await spool.takeLive(LIVE_FIRST);
        sendBatch(live);
        const backlog = inFlight.size < WINDOW ? await spool.takeBacklog(MAX_BATCH_SAMPLES) : [];
        sendBatch(backlog);
        if (!live.length && !backlog.length) break;
      }
    } catch (err) {
      opts.log.error("reading the spool failed", { error: err });
    } finally {
      flushing = false;
    }
  };

  const onHeadMessage = async (m: HeadMessage) => {
    switch (m.type) {
      case "ack":
        settle(m.seqs);
        await spool.ack(m.seqs);
        break;
      case "reject":
        // The head will never take these: keeping them would block the spool for good.
        opts.log.warn("the head rejected samples; dropping them", { count: m.seqs.length, error: m.error });
        settle(m.seqs);
        await spool.ack(m.seqs);
        break;
      case "busy":
        settle(m.seqs);
        spool.release(m.seqs);
        pausedUntil = Date.now() + m.retryAfterMs;
        setTimeout(() => void flush(), m.retryAfterMs).unref();
        break;
      case "restart":
        if (opts.onRestart) opts.onRestart(m, send);
        else
          send({
            type: "restart-status",
            id: m.id,
            state: "refused",
            message: "this agent has no restart allow-list",
            at: new Date().toISOString(),
          });
        break;
      case "update":
        opts.onUpdate?.(m);
        break;
      case "probe":
        void answerProbe(m);
        break;
    }
    void flush();
  };

  const answerProbe = async (m: ProbeCommand) => {
    const answer = await runProbe(m.probe, m.timeoutMs);
    if (!answer.ok) opts.log.info("probe failed", { kind: m.probe.kind, error: answer.error });
    // Sent on whatever connection is open by then: the head matches the answer by id.
    send({ type: "probe-result", id: m.id, ...answer });
  };

  /**
   * A probe this agent's protocol does not accept (a kind added after it was built, a field past a
   * bound) is answered with the reason, so the head says why at once instead of timing out.
   */
  const refuseProbe = (value: unknown, error: string) => {
    const m = value as { type?: unknown; id?: unknown; probe?: unknown };
    if (m?.type !== "probe" || typeof m.id !== "string" || m.id.length === 0 || m.id.length > 64) return false;
    const why = probeProblem(m.probe) ?? error;
    send({
      type: "probe-result",
      id: m.id,
      ok: false,
      result: {},
      error: `this agent (version ${opts.version}) cannot run the probe: ${why}`.slice(0, 2000),
    });
    return true;
  };

  /** After a failed connection: is it the head being away, or our credential being refused? */
  const credentialRefused = async (): Promise<boolean> => {
    try {
      const r = await fetch(`${opts.head}/api/v1/ingest`, {
        method: "POST",
        headers: { authorization: `Bearer ${cred.secret}` },
        body: "{}",
      });
      return r.status === 401 || r.status === 403;
    } catch {
      return false;
    }
  };

  /** `failure`: why the last attempt did not connect (none when an open connection closed). */
  const scheduleReconnect = async (failure?: string) => {
    if (stopped) return;
    let wait = backoffMs(attempt++);
    if (attempt > 2 && (await credentialRefused())) {
      wait = 60_000;
      if (!credentialRefusedLogged) {
        opts.log.error(
          "the head refuses this agent's credential (worker revoked or rotated); samples stay spooled. Run 'vigil worker rotate NAME' on the head and re-run the installer with the new token",
          { worker: cred.name },
        );
        credentialRefusedLogged = true;
      }
    }
    if (failure !== undefined && !credentialRefusedLogged) outage.failed(failure, wait);
    if (stopped) return;
    reconnectTimer = setTimeout(connect, wait);
  };

  function connect() {
    if (stopped) return;
    const socket = new WebSocket(wsUrl, {
      headers: {
        authorization: `Bearer ${cred.secret}`,
        "x-vigil-version": opts.version,
        "x-vigil-interval": String(opts.intervalSeconds),
        "x-vigil-restart-allow": (opts.restartAllow ?? []).join(","),
      },
    } as unknown as string[]);
    ws = socket;
    let failure = "connection closed before it opened";
    socket.onopen = () => {
      open = true;
      attempt = 0;
      credentialRefusedLogged = false;
      outage.recovered();
      opts.log.info("connected to the head", { head: opts.head, spooled: spool.pending, droppedBySpoolLimits: spool.dropped });
      void flush();
    };
    socket.onmessage = (e) => {
      let value: unknown;
      try {
        value = JSON.parse(String(e.data));
      } catch {
        return;
      }
      const parsed = parseHeadMessage(value);
      if (parsed.ok) void onHeadMessage(parsed.message);
      else if (!refuseProbe(value, parsed.error)) opts.log.warn("unexpected message from the head", { error: parsed.error });
    };
    socket.onclose = (e) => {
      const wasOpen = open;
      open = false;
      if (ws === socket) ws = undefined;
      releaseAll();
      if (wasOpen) {
        opts.log.warn("disconnected from the head; spooling", { code: e.code, reason: e.reason });
        outage.begin();
      }
      void scheduleReconnect(wasOpen ? undefined : failure);
    };
    socket.onerror = (e) => {
      // onclose follows and decides; the error holds the reason ("Failed to connect", "Expected 101 status code: 401").
      const message = (e as ErrorEvent).message;
      if (message) failure = message.replace(/^WebSocket connection to '[^']*' failed: /, "");
    };
  }

  // Sampling: every interval, aligned, written to the spool before anything is sent.
  const intervalMs = opts.intervalSeconds * 1000;
  let sampleTimer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    try {
      const sample = await opts.sample();
      await spool.append(sample);
      void flush();
    } catch (err) {
      opts.log.error("sample not spooled", { error: err });
    }
    if (!stopped) sampleTimer = setTimeout(tick, intervalMs - (Date.now() % intervalMs));
  };
  sampleTimer = setTimeout(tick, intervalMs - (Date.now() % intervalMs));
  connect();

  return {
    credential: cred,
    spool,
    get connected() {
      return open;
    },
    async stop() {
      stopped = true;
      if (sampleTimer) clearTimeout(sampleTimer);
      if (reconnectTimer) clearTimeout(reconnectTimer);
      ws?.close(1000, "agent stopping");
      await spool.close();
    },
  };
}

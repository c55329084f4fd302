// Messages between heads sharing one PostgreSQL: NOTIFY on one channel out, a dedicated LISTEN connection in, reconnecting with backoff.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { Database } from "../db/client.ts";
import type { Logger } from "../log.ts";

/** The one NOTIFY channel every head listens on (per database: heads on other databases never hear it). */
export const CLUSTER_CHANNEL = "vigil_cluster";

/**
 * NOTIFY payloads must stay under 8000 bytes. Larger messages (a log read relayed back) go as
 * base64 pieces in one statement, so they commit, and arrive, together.
 */
const MAX_PAYLOAD = 7_500;
const PIECE = 7_000;

interface Envelope {
  /** The sending head. */
  f: string;
  /** Kind of message (who handles it). */
  k: string;
  /** Only this head handles it; absent: every other head. */
  t?: string;
  b: unknown;
}

interface Piece {
  f: string;
  /** Id of the whole message, piece index, piece count, base64 data. */
  p: string;
  i: number;
  n: number;
  d: string;
}

export interface ClusterLinkOptions {
  database: Database;
  log: Logger;
  channel?: string;
  /** Reconnect backoff of the LISTEN connection: first wait and ceiling. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export type Handler = (body: unknown, from: string) => void | Promise<void>;

/**
 * A head's line to the others. Sending goes through the pool (any connection may NOTIFY);
 * hearing needs one session that stays LISTENing, so it is a client of its own. Notifications sent
 * while that session was down are lost: `onReconnect` tells the head to re-read what it shows.
 */
export class ClusterLink {
  readonly headId = randomUUID();
  readonly channel: string;
  private handlers = new Map<string, Handler[]>();
  private reconnectListeners: (() => void)[] = [];
  private client: pg.Client | null = null;
  private pieces = new Map<string, { parts: string[]; got: number; at: number }>();
  private stopped = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  readonly stats = { sent: 0, received: 0, reconnects: 0, handlerErrors: 0 };

  constructor(private readonly o: ClusterLinkOptions) {
    this.channel = o.channel ?? CLUSTER_CHANNEL;
  }

  /** Handles messages of one kind from other heads (and those addressed to this head by itself). */
  on(kind: string, fn: Handler): void {
    const list = this.handlers.get(kind) ?? [];
    list.push(fn);
    this.handlers.set(kind, list);
  }

  /** Called after the LISTEN connection came back: whatever was sent meanwhile was missed. */
  onReconnect(fn: () => void): void {
    this.reconnectListeners.push(fn);
  }

  get listening(): boolean {
    return this.client !== null;
  }

  /** Starts listening; a failure here is logged and retried like a lost connection later. */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }

  /** Sends to every other head, or to one (`to`, which may be this head itself). Resolves once the NOTIFY committed. */
  async send(kind: string, body: unknown, to?: string): Promise<void> {
    const env: Envelope = { f: this.headId, k: kind, b: body, ...(to ? { t: to } : {}) };
    const text = JSON.stringify(env);
    this.stats.sent++;
    if (Buffer.byteLength(text) <= MAX_PAYLOAD) {
      await this.o.database.query("select pg_notify($1, $2)", [this.channel, text]);
      return;
    }
    const data = Buffer.from(text).toString("base64");
    const id = randomUUID();
    const n = Math.ceil(data.length / PIECE);
    const payloads: string[] = [];
    for (let i = 0; i < n; i++)
      payloads.push(JSON.stringify({ f: this.headId, p: id, i, n, d: data.slice(i * PIECE, (i + 1) * PIECE) } satisfies Piece));
    await this.o.database.query("select pg_notify($1, x) from unnest($2::text[]) as x", [this.channel, payloads]);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const { database, log } = this.o;
    let c: pg.Client;
    try {
      c = await database.dedicatedClient!("listen");
      await c.query(`listen ${this.channel}`);
    } catch (err) {
      this.scheduleReconnect(err);
      return;
    }
    if (this.stopped) {
      await c.end().catch(() => {});
      return;
    }
    c.on("notification", (n) => {
      if (n.channel === this.channel && n.payload) this.heard(n.payload);
    });
    const lost = (err?: unknown) => {
      if (this.client !== c) return;
      this.client = null;
      void c.end().catch(() => {});
      this.scheduleReconnect(err ?? new Error("the LISTEN connection ended"));
    };
    c.on("error", lost);
    c.on("end", () => lost());
    this.client = c;
    if (this.failures > 0) {
      this.stats.reconnects++;
      log.info("listening to the other heads again", { failures: this.failures });
      this.failures = 0;
      for (const fn of this.reconnectListeners) {
        try {
          fn();
        } catch (err) {
          log.error("reconnect listener failed", { error: err });
        }
      }
    }
  }

  private scheduleReconnect(err: unknown): void {
    if (this.stopped || this.o.database.isClosed()) return;
    const first = this.o.backoffMs ?? 500;
    const wait = Math.min(this.o.maxBackoffMs ?? 30_000, first * 2 ** Math.min(this.failures, 10));
    // Say so at once, then every 10th failure: a database away for long fails every try.
    if (this.failures % 10 === 0)
      this.o.log.warn("not listening to the other heads; reconnecting", { error: err, failures: this.failures + 1, retryMs: wait });
    this.failures++;
    this.retry = setTimeout(() => void this.connect(), wait);
    this.retry.unref?.();
  }

  private heard(payload: string): void {
    let m: Envelope | Piece;
    try {
      m = JSON.parse(payload) as Envelope | Piece;
    } catch {
      this.o.log.warn("unreadable cluster message", { bytes: payload.length });
      return;
    }
    if ("p" in m) {
      const whole = this.assemble(m);
      if (whole === null) return;
      m = whole;
    }
    const env = m as Envelope;
    // Own messages come back too: handled only when addressed to this head; others' only when for all or for us.
    if (env.t ? env.t !== this.headId : env.f === this.headId) return;
    this.stats.received++;
    for (const fn of this.handlers.get(env.k) ?? []) {
      try {
        const r = fn(env.b, env.f);
        if (r instanceof Promise) r.catch((err: unknown) => this.handlerFailed(env.k, err));
      } catch (err) {
        this.handlerFailed(env.k, err);
      }
    }
  }

  private handlerFailed(kind: string, err: unknown): void {
    this.stats.handlerErrors++;
    this.o.log.error("cluster message handler failed", { kind, error: err });
  }

  private assemble(p: Piece): Envelope | null {
    const now = Date.now();
    // Pieces of a message whose rest never came (its sender died mid-way) are dropped after a minute.
    for (const [id, e] of this.pieces) if (now - e.at > 60_000) this.pieces.delete(id);
    let e = this.pieces.get(p.p);
    if (!e) this.pieces.set(p.p, (e = { parts: new Array<string>(p.n), got: 0, at: now }));
    if (e.parts[p.i] === undefined) e.got++;
    e.parts[p.i] = p.d;
    if (e.got < p.n) return null;
    this.pieces.delete(p.p);
    try {
      return JSON.parse(Buffer.from(e.parts.join(""), "base64").toString()) as Envelope;
    } catch {
      this.o.log.warn("unreadable pieced cluster message", { pieces: p.n });
      return null;
    }
  }
}

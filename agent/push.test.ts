import { afterEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import { backoffMs, OUTAGE_LOG_EVERY_MS, OutageLog, startPushAgent, type RunningAgent } from "./push.ts";
import { Spool } from "./spool.ts";
import { makeSample } from "../test/fixtures/samples.ts";
import { log, type LogContext, type Logger } from "../src/log.ts";
import type { Sample } from "../src/protocol/sample.ts";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

test("backoff is capped, exponential in its bound, and jittered", () => {
  for (let attempt = 0; attempt < 30; attempt++) {
    for (let i = 0; i < 50; i++) {
      const ms = backoffMs(attempt);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(Math.min(30_000, 500 * 2 ** attempt));
    }
  }
  const spread = new Set(Array.from({ length: 50 }, () => backoffMs(10)));
  expect(spread.size).toBeGreaterThan(10); // agents reconnecting together do not arrive together
});

test("against a head: the present goes before the backlog, busy samples come back later, rejected ones are dropped", async () => {
  const stateDir = mkdtempSync(join(tmpdir(), "vigil-push-"));
  cleanup.push(() => rmSync(stateDir, { recursive: true, force: true }));
  // A backlog of 100 samples from an outage, already in the spool.
  const spool = await Spool.open({ dir: join(stateDir, "spool") });
  for (let seq = 0; seq < 100; seq++) await spool.append(makeSample(seq, { gpus: 1 }));
  await spool.close();

  const batches: number[][] = [];
  const acked = new Set<number>();
  const sentCount = new Map<number, number>();
  let busyDone = false;
  const server: Server<unknown> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      if (req.headers.get("authorization") !== "Bearer vga_test") return new Response("no", { status: 401 });
      return srv.upgrade(req, { data: undefined }) ? undefined : new Response("upgrade", { status: 400 });
    },
    websocket: {
      message(ws, raw) {
        const m = JSON.parse(String(raw)) as { type: string; samples: Sample[] };
        const seqs = m.samples.map((s) => s.seq);
        batches.push(seqs);
        for (const s of seqs) sentCount.set(s, (sentCount.get(s) ?? 0) + 1);
        // The first backlog batch (it holds seq 0) is answered busy once.
        if (!busyDone && seqs.includes(0)) {
          busyDone = true;
          ws.send(JSON.stringify({ type: "busy", seqs, retryAfterMs: 300 }));
          return;
        }
        const bad = seqs.filter((s) => s === 50);
        const good = seqs.filter((s) => s !== 50);
        if (bad.length) ws.send(JSON.stringify({ type: "reject", seqs: bad, error: "/gpus/0/temperature: Expected union value" }));
        for (const s of good) acked.add(s);
        if (good.length) ws.send(JSON.stringify({ type: "ack", seqs: good }));
      },
    },
  });
  cleanup.push(() => server.stop(true));
  const head = `http://127.0.0.1:${server.port}`;
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, "credential.json"), JSON.stringify({ head, workerId: 1, name: "w", secret: "vga_test", tokenHash: null }));

  let next = 0;
  const quiet = log.child({ test: "push" });
  const agent: RunningAgent = await startPushAgent({
    head,
    stateDir,
    version: "0.1.0",
    intervalSeconds: 0.2,
    sample: async () => makeSample(next++, { gpus: 1, ts: new Date() }),
    setNextSeq: (n) => (next = n),
    log: quiet,
  });
  cleanup.push(() => agent.stop());
  expect(next).toBe(100); // numbering continues after the spool's backlog

  for (let i = 0; i < 200 && !(acked.has(0) && acked.size >= 102); i++) await Bun.sleep(25);
  // The first batch carries the newest samples, not the oldest.
  expect(batches[0]).toContain(99);
  expect(batches[0]).not.toContain(0);
  // The batch answered busy was sent again, and then stored.
  expect(sentCount.get(0)).toBe(2);
  expect(acked.has(0)).toBe(true);
  await Bun.sleep(500); // long enough for a wrongly kept sample to be sent again
  // Rejected: it rode in the busy batch, was sent once more, rejected, and never again.
  expect(sentCount.get(50)).toBe(2);
  expect(acked.has(50)).toBe(false);
  for (let seq = 0; seq < 100; seq++) if (seq !== 50) expect(acked.has(seq)).toBe(true);
  expect(agent.spool.pending).toBeLessThanOrEqual(3); // only live samples in flight remain
});

/** A logger that keeps its lines for the test to read. */
function recordingLog(): Logger & { lines: { level: string; msg: string; ctx: LogContext }[] } {
  const lines: { level: string; msg: string; ctx: LogContext }[] = [];
  const at =
    (level: string) =>
    (msg: string, ctx: LogContext = {}) =>
      void lines.push({ level, msg, ctx });
  const logger = { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: () => logger };
  return logger;
}

test("a head away: the first failure at once with its reason and next retry, then a line a minute, and how long it took", () => {
  const rec = recordingLog();
  let t = 1_000_000;
  const outage = new OutageLog(rec, { head: "http://head:8480" }, () => t);
  outage.failed("Failed to connect", 400);
  expect(rec.lines).toEqual([
    {
      level: "warn",
      msg: "cannot reach the head; retrying",
      ctx: { head: "http://head:8480", error: "Failed to connect", retryInMs: 400 },
    },
  ]);
  // Retries every few seconds for most of a minute: nothing more.
  for (let i = 0; i < 20; i++) {
    t += 2_900;
    outage.failed("Failed to connect", 30_000);
  }
  expect(rec.lines).toHaveLength(1);
  t = 1_000_000 + OUTAGE_LOG_EVERY_MS;
  outage.failed("Failed to connect", 30_000);
  expect(rec.lines.at(-1)).toEqual({
    level: "warn",
    msg: "still cannot reach the head; retrying",
    ctx: { head: "http://head:8480", error: "Failed to connect", retryInMs: 30_000, downForSeconds: 60, failures: 22 },
  });
  t += 30_000;
  outage.failed("Failed to connect", 30_000);
  expect(rec.lines).toHaveLength(2);
  t += 5_000;
  outage.recovered();
  expect(rec.lines.at(-1)).toEqual({
    level: "info",
    msg: "connected again after 95 s",
    ctx: { head: "http://head:8480", downForSeconds: 95, failures: 23 },
  });
  // A later outage starts over with a first line at once.
  outage.recovered();
  expect(rec.lines).toHaveLength(3);
  outage.failed("Expected 101 status code: 502", 500);
  expect(rec.lines.at(-1)!.msg).toBe("cannot reach the head; retrying");
});

test("an enrolled agent whose head is down at start says so, and says when it connects", async () => {
  const stateDir = mkdtempSync(join(tmpdir(), "vigil-push-"));
  cleanup.push(() => rmSync(stateDir, { recursive: true, force: true }));
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true); // nobody listens there now
  const head = `http://127.0.0.1:${port}`;
  writeFileSync(join(stateDir, "credential.json"), JSON.stringify({ head, workerId: 1, name: "w", secret: "vga_test", tokenHash: null }));
  const rec = recordingLog();
  let next = 0;
  const agent = await startPushAgent({
    head,
    stateDir,
    version: "0.1.0",
    intervalSeconds: 1,
    sample: async () => makeSample(next++, { gpus: 1, ts: new Date() }),
    setNextSeq: (n) => (next = n),
    log: rec,
  });
  cleanup.push(() => agent.stop());
  const failing = () => rec.lines.filter((l) => l.msg === "cannot reach the head; retrying");
  for (let i = 0; i < 100 && failing().length === 0; i++) await Bun.sleep(20);
  expect(failing()).toHaveLength(1);
  expect(failing()[0]!.level).toBe("warn");
  expect(failing()[0]!.ctx).toMatchObject({ head, error: "Failed to connect" });
  expect(failing()[0]!.ctx.retryInMs).toBeNumber();
  // (One line a minute at most while it lasts: the test above.)
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    fetch: (req, srv) => (srv.upgrade(req, { data: undefined }) ? undefined : new Response("upgrade", { status: 400 })),
    websocket: { message() {} },
  });
  cleanup.push(() => server.stop(true));
  for (let i = 0; i < 400 && !agent.connected; i++) await Bun.sleep(25);
  expect(agent.connected).toBe(true);
  const back = rec.lines.find((l) => l.msg.startsWith("connected again after "));
  expect(back?.level).toBe("info");
  expect(back?.ctx.failures).toBeGreaterThanOrEqual(1);
}, 20_000);

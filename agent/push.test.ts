import { afterEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import { backoffMs, startPushAgent, type RunningAgent } from "./push.ts";
import { Spool } from "./spool.ts";
import { makeSample } from "../test/fixtures/samples.ts";
import { log } from "../src/log.ts";
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

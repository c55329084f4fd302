// The live stream end to end in one process: GET /events through the app, the hub's ticks, and what reaches each subscriber.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { restarts } from "../../src/db/schema/index.ts";
import { recordRestartStatus } from "../../src/fleet/restarts.ts";
import { upsertWorker } from "../../src/fleet/workers.ts";
import type { LiveEvent } from "../../src/live/bus.ts";
import { LiveHub, type HubOptions } from "../../src/live/hub.ts";
import { VIEWS } from "../../src/live/registry.ts";
import { RenderContext, resolveView } from "../../src/live/views.ts";
import type { Sample } from "../../src/protocol/sample.ts";
import { describeEachEngine } from "../harness/engines.ts";
import { startTestHead, type TestHead } from "../harness/head.ts";
import { freePort } from "../harness/process.ts";
import { makeSample } from "../fixtures/samples.ts";
import { partialsOf, SseReader, type Received } from "./sse-reader.ts";

const EVIL_NAME = "<img src=x onerror=alert(1)>";
const EVIL_PROCESS = '"><script>alert(1)</script>';

describeEachEngine("live stream", (engine) => {
  let head: TestHead;
  /** The hub's clock: tests move time forward without waiting for it. */
  let now = Date.now();
  let seq = 100;
  /** Sample times: each ingest 10 ms after the last, all in the recent past, so the latest-state cache always takes the new one. */
  const base = Date.now() - 60_000;
  const open: SseReader[] = [];

  beforeAll(async () => {
    head = await startTestHead(engine, { live: { autoTick: false, clock: () => now } });
  }, 60_000);
  afterAll(() => head.close());
  beforeEach(async () => {
    for (const r of open.splice(0)) await r.cancel();
    now = Date.now();
  });

  const worker = () => ({ id: head.agent.workerId, name: head.agent.name });
  /** A fresh sample of the enrolled worker, newer than any before; `cpu` is what the fleet table shows changing. */
  async function ingest(cpu: number, opts: { replay?: boolean } = {}): Promise<void> {
    // A replayed sample is an hour old: the latest-state cache keeps the newer one it holds.
    const s: Sample = makeSample(++seq, { ts: new Date(opts.replay ? base - 3_600_000 : base + seq * 10) });
    s.host.cpuPercent = cpu;
    await head.ctx.ingestor.ingest(worker(), s);
  }
  async function stream(view: string, as: "viewer" | "admin" = "viewer"): Promise<SseReader> {
    const res = await head.request(`/events?view=${encodeURIComponent(view)}`, { as });
    expect(res.status).toBe(200);
    const reader = new SseReader(res.body!);
    open.push(reader);
    return reader;
  }
  /** The next message that swaps regions (heartbeats, which come every 15 s of real time, skipped). */
  async function frame(reader: SseReader, timeoutMs = 5000): Promise<Received | undefined> {
    for (;;) {
      const m = await reader.next(timeoutMs);
      if (!m || m.data !== "") return m;
    }
  }
  /** Swaps in a hub with other options for one test; the route reads ctx.live per request. */
  async function withHub(opts: HubOptions, fn: (hub: LiveHub) => Promise<void>): Promise<void> {
    const saved = head.ctx.live;
    const hub = new LiveHub(opts);
    hub.start(head.ctx);
    head.ctx.live = hub;
    try {
      await fn(hub);
    } finally {
      for (const r of open.splice(0)) await r.cancel();
      hub.stop();
      head.ctx.live = saved;
    }
  }

  test("anonymous callers are sent to sign in; an unknown or missing view is a 400", async () => {
    const anon = await head.request("/events?view=fleet");
    expect(anon.status).toBe(303);
    expect(anon.headers.get("location")).toBe("/login?next=%2Fevents%3Fview%3Dfleet");
    for (const q of ["?view=nope", "?view=worker:abc", "?view=fleet:1", ""]) {
      const r = await head.request(`/events${q}`, { as: "viewer" });
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toContain("unknown view");
    }
    expect(head.ctx.live.subscribers).toBe(0);
  });

  test("the first message holds every region of the view, the same HTML the page renders, with a retry hint", async () => {
    await ingest(12);
    const res = await head.request("/events?view=fleet", { as: "viewer" });
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("cache-control")).toContain("no-store");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const reader = new SseReader(res.body!);
    open.push(reader);
    const first = (await reader.next())!;
    expect(first.retry).toBe(1000);
    const regions = partialsOf(first.data);
    expect([...regions.keys()]).toEqual(resolveView(VIEWS, "fleet").map((r) => r.id));
    expect(regions.get("fleet")).toContain(`data-worker="${head.agent.workerId}"`);
    expect(regions.get("fleet")).toContain("12 %");
    // One source of truth: the page's nav status is byte for byte the stream's.
    const page = await (await head.request("/", { as: "viewer" })).text();
    expect(page).toContain(regions.get("fleet-status")!);
    const worker = await stream(`worker:${head.agent.workerId}`);
    expect([...partialsOf((await worker.next())!.data).keys()]).toEqual(
      resolveView(VIEWS, `worker:${head.agent.workerId}`).map((r) => r.id),
    );
  });

  test("a tick sends only the regions whose HTML changed, and nothing when none did", async () => {
    await ingest(20);
    const reader = await stream("fleet");
    await reader.next();
    await head.ctx.live.tick();
    expect(await frame(reader, 150)).toBeUndefined();

    await ingest(33);
    await head.ctx.live.tick();
    const m = (await frame(reader))!;
    // The GPUs were busy before and are busy now: the nav status did not change, so it is not sent.
    expect([...partialsOf(m.data).keys()]).toEqual(["fleet"]);
    expect(partialsOf(m.data).get("fleet")).toContain("33 %");

    // A replayed old sample wakes the regions up, but their HTML is the same: nothing goes out.
    await ingest(99, { replay: true });
    await head.ctx.live.tick();
    expect(await frame(reader, 150)).toBeUndefined();
  });

  test("one render per region per tick, whatever the number of subscribers and views; all get the same bytes", async () => {
    const fleet = [await stream("fleet"), await stream("fleet"), await stream("fleet")];
    const worker = await stream(`worker:${head.agent.workerId}`);
    for (const r of [...fleet, worker]) await r.next();
    expect(head.ctx.live.openViews()).toEqual({ fleet: 3, [`worker:${head.agent.workerId}`]: 1 });
    await ingest(41);
    const before = head.ctx.live.stats.renders;
    await head.ctx.live.tick();
    // fleet-status is in both views and rendered once; free-gpus and fleet once each; the worker view's six
    // regions once each (restart-status for the clock, which ticks with every tick).
    expect(head.ctx.live.stats.renders - before).toBe(3 + 6);
    const got = await Promise.all(fleet.map((r) => frame(r)));
    expect(new Set(got.map((m) => m!.data)).size).toBe(1);
    expect(got[0]!.data).toContain("41 %");
    // The worker page shows the new sample too: the nav status, shared with the fleet view, in the same bytes.
    const w = (await frame(worker))!;
    expect(partialsOf(w.data).get("fleet-status")).toBe(partialsOf(got[0]!.data).get("fleet-status"));
    expect(partialsOf(w.data).get("worker-vitals")).toContain("41 %");
  });

  test("a worker that goes quiet turns stale, then offline, by the clock alone; heartbeats keep the stream open", async () => {
    await ingest(50);
    const reader = await stream("fleet");
    await reader.next();
    now += 30_000;
    await head.ctx.live.tick();
    const stale = partialsOf((await frame(reader))!.data);
    expect(stale.get("fleet")).toContain("status-stale");
    expect(stale.get("fleet-status")).toContain("1 unreachable");
    now += 10 * 60_000;
    await head.ctx.live.tick();
    const later = reader.drain().concat((await reader.next(300)) ?? []);
    expect(later.some((m) => partialsOf(m.data).get("fleet")?.includes("status-offline"))).toBe(true);
    // More than 15 s of clock passed: a heartbeat comment went out as well.
    expect(later.some((m) => m.comments.includes("heartbeat"))).toBe(true);
    // Back to the present: a sample arrives and the worker is online again.
    now = Date.now();
    await ingest(51);
    await head.ctx.live.tick();
    expect(partialsOf((await frame(reader))!.data).get("fleet")).toContain("status-online");
  });

  test("a worker named like HTML, with a process named like a script, is escaped in every message", async () => {
    const id = await upsertWorker(head.ctx.database.db, { name: EVIL_NAME, kind: "remote", hostname: EVIL_NAME });
    const s = makeSample(1, { ts: new Date(Date.now() - 1000), hostname: EVIL_NAME });
    s.gpus[0]!.processes = [{ pid: 1, name: EVIL_PROCESS, user: EVIL_NAME, usedMemoryMiB: 1, container: EVIL_PROCESS }];
    await head.ctx.ingestor.ingest({ id, name: EVIL_NAME }, s);
    const reader = await stream("fleet");
    const first = (await reader.next())!;
    const s2 = makeSample(2, { ts: new Date(Date.now() - 500), hostname: EVIL_NAME });
    s2.host.cpuPercent = 77;
    await head.ctx.ingestor.ingest({ id, name: EVIL_NAME }, s2);
    await head.ctx.live.tick();
    const messages = [first, (await frame(reader))!];
    for (const m of messages) {
      expect(m.data).toContain("&lt;img src=x onerror=alert(1)&gt;");
      expect(m.data).not.toContain("<img");
      expect(m.data).not.toContain("<script");
    }
    expect(messages[1]!.data).toContain("77 %");
  });

  test("cancelling a stream unsubscribes it; the view closes with its last subscriber", async () => {
    const a = await stream("fleet");
    const b = await stream("fleet");
    await a.next();
    await b.next();
    expect(head.ctx.live.subscribers).toBe(2);
    await a.cancel();
    expect(head.ctx.live.subscribers).toBe(1);
    await b.cancel();
    expect(head.ctx.live.subscribers).toBe(0);
    expect(head.ctx.live.openViews()).toEqual({});
  });

  test("a client that stops reading is dropped; the others keep receiving", async () => {
    await withHub({ autoTick: false, clock: () => now, maxQueuedBytes: 8 * 1024 }, async (hub) => {
      const stalled = await head.request("/events?view=fleet", { as: "viewer" });
      const reader = await stream("fleet");
      await reader.next();
      let received = 0;
      for (let i = 0; i < 20 && hub.subscribers === 2; i++) {
        await ingest(60 + i);
        await hub.tick();
        if (await frame(reader, 500)) received++;
      }
      expect(hub.subscribers).toBe(1);
      expect(hub.stats.dropped).toBe(1);
      await ingest(90);
      await hub.tick();
      expect((await frame(reader))!.data).toContain("90 %");
      expect(received).toBeGreaterThan(0);
      // The dropped stream ends in an error: what was queued is discarded, the browser reconnects afresh.
      expect(
        await stalled.text().then(
          () => "ended",
          () => "errored",
        ),
      ).toBe("errored");
    });
  });

  test("beyond the subscriber limit a stream is refused with 503 and Retry-After", async () => {
    await withHub({ autoTick: false, maxSubscribers: 1 }, async (hub) => {
      await stream("fleet");
      const refused = await head.request("/events?view=fleet", { as: "viewer" });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("30");
      expect(((await refused.json()) as { error: string }).error).toContain("1 live streams");
      expect(hub.subscribers).toBe(1);
    });
  });

  test("at most one message a second per region under a burst of 50 samples, the last one showing the newest", async () => {
    await withHub({ tickMs: 1000 }, async () => {
      const reader = await stream("fleet");
      await reader.next();
      const started = performance.now();
      // Started together: the burst lands within a few milliseconds, not one commit after another.
      await Promise.all(Array.from({ length: 50 }, (_, i) => ingest(i + 1)));
      await Bun.sleep(2600);
      const elapsed = performance.now() - started;
      const fleetFrames = reader.drain().filter((m) => partialsOf(m.data).has("fleet"));
      expect(fleetFrames.length).toBeGreaterThanOrEqual(1);
      expect(fleetFrames.length).toBeLessThanOrEqual(Math.ceil(elapsed / 1000));
      for (let i = 1; i < fleetFrames.length; i++) expect(fleetFrames[i]!.at - fleetFrames[i - 1]!.at).toBeGreaterThan(900);
      expect(partialsOf(fleetFrames.at(-1)!.data).get("fleet")).toContain("50 %");
    });
  }, 15_000);

  test("restart requests and reports reach the bus", async () => {
    const heard: LiveEvent[] = [];
    const off = head.ctx.live.bus.subscribe((e) => e.topic === "restart" && heard.push(e));
    try {
      const [row] = await head.ctx.database.db
        .insert(restarts)
        .values({ workerId: head.agent.workerId, service: "vllm.service", requestedBy: "test", events: [] })
        .returning();
      const at = new Date().toISOString();
      expect(
        await recordRestartStatus(head.ctx.database.db, head.agent.workerId, { type: "restart-status", id: row!.id, state: "waiting", at }),
      ).toBe(true);
      // Another worker's report about it is refused, and so not announced.
      expect(await recordRestartStatus(head.ctx.database.db, 999_999, { type: "restart-status", id: row!.id, state: "failed", at })).toBe(
        false,
      );
      expect(heard).toEqual([{ topic: "restart", workerId: head.agent.workerId, restartId: row!.id, state: "waiting" }]);
    } finally {
      off();
    }
  });

  test("every region of every view renders one element carrying its own id (the morph swap keeps it)", async () => {
    const rc = new RenderContext(head.ctx);
    for (const view of ["fleet", `worker:${head.agent.workerId}`]) {
      for (const region of resolveView(VIEWS, view)) {
        const html = await region.render(rc);
        expect(html).toMatch(new RegExp(`^<[a-z]+ id="${region.id}"[ >]`));
      }
    }
  });

  test("the worker page streams its own regions, byte for byte what the page renders, keeping its GPU selection", async () => {
    await ingest(12);
    for (const [query, view] of [
      ["", `worker:${head.agent.workerId}`],
      ["?gpu=all", `worker:${head.agent.workerId}:all`],
    ] as const) {
      const page = await (await head.request(`/workers/${head.agent.workerId}${query}`, { as: "viewer" })).text();
      expect(page).toContain(`hx-sse:connect="/events?view=${encodeURIComponent(view)}"`);
      const rc = new RenderContext(head.ctx);
      const regions = resolveView(VIEWS, view);
      expect(regions.map((r) => r.id)).toEqual([
        "fleet-status",
        "worker-status",
        "worker-vitals",
        "worker-processes",
        "worker-hardware",
        "worker-storage",
        "restart-status",
      ]);
      for (const region of regions.filter((r) => r.id !== "fleet-status" && r.id !== "worker-status")) {
        expect(page).toContain(await region.render(rc));
      }
    }
    expect(() => resolveView(VIEWS, `worker:${head.agent.workerId}:gpu0`)).toThrow(/unknown view/);
  });

  test("the fleet page names its stream and still shows everything without JavaScript", async () => {
    await ingest(12);
    const html = await (await head.request("/", { as: "viewer" })).text();
    expect(html).toContain('hx-sse:connect="/events?view=fleet"');
    expect(html).toMatch(/<article id="live-banner"[^>]* hidden>/);
    expect(html).toMatch(/<li id="fleet-status"[^>]*>[\s\S]*worker/);
    expect(html).toContain('id="fleet"');
    expect(html).toContain(`data-worker="${head.agent.workerId}"`);
    // At the end of the body, not deferred, htmx before its SSE extension before our glue (see views/layout.tsx).
    expect(html).toMatch(
      /<script src="\/static\/htmx\.min\.js[^"]*"><\/script><script src="\/static\/hx-sse\.min\.js[^"]*"><\/script><script src="\/static\/live\.js[^"]*"><\/script><\/body>/,
    );
    const js = await head.request("/static/live.js");
    expect(js.status).toBe(200);
    expect(await js.text()).toContain("htmx:sse:error");
  });

  test("over real HTTP: frames arrive within a tick of a sample, and a closed connection unsubscribes", async () => {
    await withHub({ tickMs: 250 }, async (hub) => {
      const port = freePort();
      head.app.listen({ hostname: "127.0.0.1", port });
      try {
        const abort = new AbortController();
        const res = await fetch(`http://127.0.0.1:${port}/events?view=fleet`, {
          headers: { cookie: await head.cookieFor("viewer") },
          signal: abort.signal,
        });
        expect(res.status).toBe(200);
        const reader = new SseReader(res.body!);
        const first = (await reader.next())!;
        expect(partialsOf(first.data).size).toBe(resolveView(VIEWS, "fleet").length);
        await ingest(64);
        let seen = false;
        for (let m = await reader.next(2000); m && !seen; m = await reader.next(2000)) seen = m.data.includes("64 %");
        expect(seen).toBe(true);
        expect(hub.subscribers).toBe(1);
        abort.abort();
        await reader.ended;
        for (let i = 0; i < 50 && hub.subscribers > 0; i++) await Bun.sleep(20);
        expect(hub.subscribers).toBe(0);
      } finally {
        await head.app.stop(true);
      }
    });
  });
});

describe("live hub lifecycle", () => {
  test("open before start, or after stop, is a 503; stop ends the streams", async () => {
    const hub = new LiveHub({ autoTick: false });
    expect(hub.open("fleet")).toMatchObject({ ok: false, status: 503 });
    hub.stop();
    expect(hub.open("fleet")).toMatchObject({ ok: false, status: 503 });
  });
});

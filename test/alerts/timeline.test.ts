// Alert timelines under a scripted clock: each notification a sequence of samples must produce (count, order, content), and none it must not.
import { afterEach, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { alertEvents, alerts, channels, services } from "../../src/db/schema/index.ts";
import { webhookSignature } from "../../src/notifiers/webhook.ts";
import { Timeline, type TimelineOptions } from "./timeline.ts";

let open: Timeline[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) {
    expect(t.engine.stats.errors).toBe(0);
    await t.close();
  }
});
async function timeline(o: TimelineOptions = {}): Promise<Timeline> {
  const t = await Timeline.open(o);
  open.push(t);
  return t;
}

describe("alert timelines", () => {
  test("pending, then firing once the `for` duration has passed; one notification with the alert's details", async () => {
    const t = await timeline();
    await t.rule({ forSeconds: 30 });
    await t.temp(0, 60);
    await t.temp(1, 88);
    expect(t.engine.list().map((a) => a.state)).toEqual(["pending"]);
    await t.temp(20, 89);
    await t.temp(30, 90);
    expect(t.told()).toEqual([]);
    await t.temp(31, 90);
    expect(t.told()).toEqual(["firing:critical"]);
    await t.temp(32, 91);
    await t.temp(40, 90);
    expect(t.told()).toEqual(["firing:critical"]);
    const [r] = t.hooks.received;
    expect(r!.body.alert).toMatchObject({
      rule: "threshold:temperature",
      worker: { name: "gpu-07" },
      gpu: { index: 0 },
      value: 90,
      threshold: 85,
      unit: "°C",
      startedAt: new Date(Date.parse("2026-11-23T10:00:01Z")).toISOString(),
      firedAt: "2026-11-23T10:00:31.000Z",
    });
    expect(r!.body.title).toBe("CRITICAL gpu-07 GPU 0: GPU temperature: 90 °C (critical at 85 °C)");
    expect(r!.body.alert.url).toStartWith("https://vigil.example/alerts#alert-");
    // The generic webhook signs "<timestamp>.<body>" with the channel's secret.
    const ts = Number(r!.headers.get("x-vigil-timestamp"));
    expect(r!.headers.get("x-vigil-signature")).toBe(`sha256=${webhookSignature("s3cret", ts, JSON.stringify(r!.body))}`);
  });

  test("a condition that clears before `for` never notifies, and leaves no alert behind", async () => {
    const t = await timeline();
    await t.rule({ forSeconds: 30 });
    await t.temp(0, 90);
    await t.temp(10, 60);
    await t.temp(40, 60);
    expect(t.told()).toEqual([]);
    expect(await t.database.db.select().from(alerts)).toHaveLength(0);
  });

  test("warning → critical → warning is one alert escalating and de-escalating, then one recovery", async () => {
    const t = await timeline();
    await t.rule({});
    await t.temp(0, 75);
    await t.temp(1, 88);
    await t.temp(2, 89);
    await t.temp(3, 78);
    await t.temp(4, 60);
    expect(t.told()).toEqual(["firing:warning", "escalated:critical", "deescalated:warning", "resolved:warning"]);
    const ids = new Set(t.hooks.received.map((r) => r.body.alert.id));
    expect(ids.size).toBe(1);
    // The recovery of a critical alert reports the level channels were last told.
    const rows = await t.database.db.select().from(alerts);
    expect(rows.map((r) => r.state)).toEqual(["resolved"]);
  });

  test("hysteresis: the level clears only once the value is back past it by the margin", async () => {
    const t = await timeline();
    await t.rule({ hysteresis: 5 });
    await t.temp(0, 86);
    await t.temp(1, 83); // below critical 85, within 5: still critical
    await t.temp(2, 80); // 85 - 5 = 80 still holds (clears below 80)
    expect(t.told()).toEqual(["firing:critical"]);
    await t.temp(3, 79); // now warning
    await t.temp(4, 68); // below warning 70 but within 5: still warning
    await t.temp(5, 66);
    expect(t.told()).toEqual(["firing:critical", "deescalated:warning"]);
    await t.temp(6, 64.9);
    expect(t.told()).toEqual(["firing:critical", "deescalated:warning", "resolved:warning"]);
  });

  test("cooldown: firing again within 5 minutes of the last firing stays quiet, and speaks once the cooldown is over", async () => {
    const t = await timeline({ settings: { cooldownSeconds: 300 } });
    await t.rule({});
    await t.temp(0, 90);
    await t.temp(10, 60);
    expect(t.told()).toEqual(["firing:critical", "resolved:critical"]);
    // Flapping inside the cooldown: neither the firing nor its recovery is told.
    await t.temp(20, 90);
    await t.temp(30, 60);
    await t.temp(40, 90);
    expect(t.told()).toEqual(["firing:critical", "resolved:critical"]);
    const suppressed = await t.database.db.select().from(alertEvents).where(eq(alertEvents.suppressed, "cooldown"));
    expect(suppressed.length).toBe(2);
    // Still firing when the cooldown ends: now it is told, once.
    await t.hold(299);
    expect(t.told()).toHaveLength(2);
    await t.hold(301);
    await t.hold(302);
    expect(t.told()).toEqual(["firing:critical", "resolved:critical", "firing:critical"]);
    await t.temp(400, 60);
    expect(t.told()).toEqual(["firing:critical", "resolved:critical", "firing:critical", "resolved:critical"]);
  });

  test("repeat: a still-firing alert is re-told every repeat interval until acknowledged", async () => {
    const t = await timeline({ settings: { repeatSeconds: 60 } });
    await t.rule({});
    await t.temp(0, 90);
    await t.hold(30);
    await t.hold(60);
    await t.hold(90);
    await t.hold(120);
    expect(t.told()).toEqual(["firing:critical", "repeat:critical", "repeat:critical"]);
    const id = t.engine.list()[0]!.id!;
    expect(await t.engine.acknowledge(id, "user:alice")).toBe(true);
    await t.hold(200);
    await t.hold(300);
    expect(t.told()).toHaveLength(3);
    // Acknowledged is not silenced: the recovery is still told.
    await t.temp(310, 50);
    expect(t.told().at(-1)).toBe("resolved:critical");
  });

  test("recovery: told once, with the resolve time, and the alert becomes history", async () => {
    const t = await timeline();
    await t.rule({});
    await t.temp(0, 90);
    await t.temp(5, 50);
    await t.temp(6, 50);
    await t.temp(7, 51);
    expect(t.told()).toEqual(["firing:critical", "resolved:critical"]);
    const resolved = t.hooks.received[1]!.body;
    expect(resolved.alert.state).toBe("resolved");
    expect(resolved.alert.resolvedAt).toBe("2026-11-23T10:00:05.000Z");
    expect(resolved.title).toBe("RESOLVED gpu-07 GPU 0: GPU temperature");
    expect(t.engine.list()).toHaveLength(0);
  });

  test("silence: no notification while silenced; an alert still firing when the silence ends is told then", async () => {
    const t = await timeline();
    await t.rule({});
    await t.silence({ fromS: 0, toS: 100, rule: "threshold:temperature" });
    await t.temp(10, 90);
    await t.hold(50);
    expect(t.told()).toEqual([]);
    const ev = await t.database.db.select().from(alertEvents);
    expect(ev.map((e) => [e.kind, e.suppressed])).toEqual([["firing", "silenced"]]);
    await t.hold(101);
    expect(t.told()).toEqual(["firing:critical"]);
    await t.temp(110, 60);
    expect(t.told()).toEqual(["firing:critical", "resolved:critical"]);
  });

  test("silence: an alert that fires and clears inside the silence is never told, recovery included", async () => {
    const t = await timeline();
    await t.rule({});
    await t.silence({ fromS: 0, toS: 100 });
    await t.temp(10, 90);
    await t.temp(20, 60);
    await t.hold(150);
    expect(t.told()).toEqual([]);
  });

  test("maintenance window: planned for the worker, quiet inside it, normal before and after", async () => {
    const t = await timeline();
    await t.rule({});
    await t.silence({ kind: "maintenance", workerId: t.workerId, fromS: 100, toS: 200 });
    await t.temp(0, 90);
    await t.temp(10, 60);
    expect(t.told()).toEqual(["firing:critical", "resolved:critical"]);
    await t.temp(400, 60);
    await t.temp(410, 90); // outside the cooldown, inside nothing yet
    await t.temp(420, 60);
    expect(t.told()).toHaveLength(4);
    // A window later in the day: alerts inside it stay quiet.
    await t.silence({ kind: "maintenance", workerId: t.workerId, fromS: 1000, toS: 2000 });
    await t.temp(1100, 95);
    await t.temp(1200, 60);
    expect(t.told()).toHaveLength(4);
    const ev = await t.database.db.select().from(alertEvents).where(eq(alertEvents.suppressed, "maintenance"));
    expect(ev).toHaveLength(1);
  });

  test("offline is no data: the worker-offline alert fires, its other alerts wait, nothing is falsely resolved", async () => {
    const t = await timeline();
    await t.rule({});
    await t.enableBuiltin("offline");
    await t.temp(0, 90);
    expect(t.told()).toEqual(["firing:critical"]);
    await t.tick(30); // stale, not offline yet
    expect(t.told()).toHaveLength(1);
    await t.tick(61);
    expect(t.hooks.received.map((r) => [r.body.event, r.body.alert.rule])).toEqual([
      ["firing", "threshold:temperature"],
      ["firing", "builtin:offline"],
    ]);
    const temp = t.engine.list().find((a) => a.rule === "threshold:temperature")!;
    expect(temp.state).toBe("nodata");
    await t.tick(600);
    expect(t.told()).toHaveLength(2);
    // Back, still hot: the offline alert resolves, the temperature alert goes back to firing without a second notice.
    await t.temp(700, 91);
    expect(t.hooks.received.map((r) => [r.body.event, r.body.alert.rule])).toEqual([
      ["firing", "threshold:temperature"],
      ["firing", "builtin:offline"],
      ["resolved", "builtin:offline"],
    ]);
    expect(t.engine.list().map((a) => a.state)).toEqual(["firing"]);
    await t.temp(701, 60);
    expect(t.told().at(-1)).toBe("resolved:critical");
    expect(t.told()).toHaveLength(4);
  });

  test("head restart mid-pending keeps the pending timer; mid-firing neither repeats the firing nor loses the recovery", async () => {
    const t = await timeline();
    await t.rule({ forSeconds: 30 });
    await t.temp(0, 90);
    await t.temp(10, 90);
    await t.restart();
    expect(t.engine.list().map((a) => a.state)).toEqual(["pending"]);
    await t.temp(20, 90);
    expect(t.told()).toEqual([]);
    await t.temp(30, 90);
    expect(t.told()).toEqual(["firing:critical"]);
    await t.restart();
    await t.temp(40, 90);
    await t.temp(50, 90);
    expect(t.told()).toEqual(["firing:critical"]);
    // The recovery is queued while the webhook is down, then the head restarts: it is delivered, once.
    t.hooks.failNext("a", 1);
    await t.temp(60, 50);
    expect(t.told()).toEqual(["firing:critical"]);
    await t.restart();
    t.at(70);
    await t.queue.drain();
    expect(t.told()).toEqual(["firing:critical", "resolved:critical"]);
    await t.restart();
    t.at(80);
    await t.queue.drain();
    await t.temp(90, 50);
    expect(t.told()).toEqual(["firing:critical", "resolved:critical"]);
  });

  test("a webhook failing k times is retried with backoff until delivered, without duplicating the other channels", async () => {
    const t = await timeline({ channels: [{ name: "a", hook: "a" }, { name: "b", hook: "b" }, { name: "in-app" }] });
    await t.rule({});
    t.hooks.failNext("a", 3);
    await t.temp(0, 90);
    expect(t.told("a")).toEqual([]);
    expect(t.told("b")).toEqual(["firing:critical"]);
    for (let s = 1; s <= 5; s++) {
      t.at(s);
      await t.queue.drain();
    }
    expect(t.told("a")).toEqual(["firing:critical"]);
    expect(t.told("b")).toEqual(["firing:critical"]);
    const attempts = t.hooks.received.filter((r) => r.hook === "a");
    expect(attempts.map((r) => r.status)).toEqual([503, 503, 503, 200]);
    // Every attempt carried the same delivery id: a receiver that saw one can drop the rest.
    expect(new Set(attempts.map((r) => r.headers.get("x-vigil-delivery"))).size).toBe(1);
    const rows = await t.deliveryRows();
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ["delivered", 4],
      ["delivered", 1],
      ["delivered", 1],
    ]);
    // The recovery waits for nothing: channel a is clear again.
    await t.temp(10, 50);
    expect(t.told("a")).toEqual(["firing:critical", "resolved:critical"]);
    expect(t.told("b")).toEqual(["firing:critical", "resolved:critical"]);
  });

  test("a channel's notifications keep their order: a recovery never overtakes a firing still being retried", async () => {
    const t = await timeline();
    await t.rule({});
    t.hooks.failNext("a", 2);
    await t.temp(0, 90);
    await t.temp(0.5, 50);
    expect(t.told()).toEqual([]);
    for (let s = 1; s <= 4; s++) {
      t.at(s);
      await t.queue.drain();
    }
    expect(t.told()).toEqual(["firing:critical", "resolved:critical"]);
  });

  test("escalation: unacknowledged after N minutes, the next tier hears of it; critical-only channels skip warnings", async () => {
    const t = await timeline({
      settings: { escalationMinutes: 10 },
      channels: [
        { name: "chat", hook: "chat" },
        { name: "pager", hook: "pager", tier: 2 },
        { name: "crit", hook: "crit", minSeverity: "critical" },
      ],
    });
    await t.rule({});
    await t.temp(0, 75);
    await t.hold(300);
    expect(t.told("chat")).toEqual(["firing:warning"]);
    expect(t.told("pager")).toEqual([]);
    expect(t.told("crit")).toEqual([]);
    await t.hold(601);
    expect(t.told("pager")).toEqual(["escalation:warning"]);
    await t.temp(700, 90);
    expect(t.told("chat")).toEqual(["firing:warning", "escalated:critical"]);
    expect(t.told("pager")).toEqual(["escalation:warning", "escalated:critical"]);
    expect(t.told("crit")).toEqual(["escalated:critical"]);
    await t.temp(800, 50);
    expect(t.told("crit")).toEqual(["escalated:critical", "resolved:critical"]);
    expect(t.told("pager").at(-1)).toBe("resolved:critical");
  });
});

describe("service health through the alert engine", () => {
  const down = { latencyMs: null, message: "GET http://127.0.0.1:9/health: connection refused" };
  const fine = { latencyMs: 12, message: "HTTP 200 in 12 ms" };

  test("dashboard at once, channels after the escalation delay, never repeated, one recovery", async () => {
    const t = await timeline({ settings: { repeatSeconds: 60 } });
    const [svc] = await t.database.db.insert(services).values({ name: "inference-api", kind: "http", escalationSeconds: 300 }).returning();
    const s = { id: svc!.id, name: "inference-api", workerId: null, escalationSeconds: 300 };
    t.at(0);
    await t.engine.observeService(s, "down", down);
    await t.settle();
    // On the dashboard (an open firing alert) at once; channels wait out the delay.
    expect(t.engine.list().map((a) => [a.rule, a.state, a.severity])).toEqual([["health:service", "firing", "critical"]]);
    expect(t.told()).toEqual([]);
    // A blip shorter than the delay is never told, recovery included.
    t.at(100);
    await t.engine.observeService(s, "healthy", fine);
    await t.settle();
    expect(t.told()).toEqual([]);
    // Down again, for longer than the delay: told once, when the delay has passed, then never repeated.
    t.at(200);
    await t.engine.observeService(s, "down", down);
    for (const sec of [300, 499, 501, 600, 700, 900]) {
      t.at(sec);
      await t.engine.tick();
      await t.settle();
    }
    expect(t.told()).toEqual(["firing:critical"]);
    const told = t.hooks.received[0]!.body;
    expect(told.title).toBe("CRITICAL inference-api: down (GET http://127.0.0.1:9/health: connection refused)");
    expect(told.alert.url).toBe(`https://vigil.example/health/${svc!.id}`);
    t.at(950);
    await t.engine.observeService(s, "healthy", fine);
    await t.settle();
    expect(t.told()).toEqual(["firing:critical", "resolved:critical"]);
    expect(t.hooks.received[1]!.body.title).toBe("RESOLVED inference-api: healthy again");
  });

  test("a service that names its channels is told only there", async () => {
    const t = await timeline({
      channels: [
        { name: "a", hook: "a" },
        { name: "b", hook: "b" },
      ],
    });
    const [b] = await t.database.db.select().from(channels).where(eq(channels.name, "b"));
    const [svc] = await t.database.db
      .insert(services)
      .values({ name: "api", kind: "http", escalationSeconds: 0, channelIds: [b!.id] })
      .returning();
    const s = { id: svc!.id, name: "api", workerId: null, escalationSeconds: 0, channelIds: [b!.id] };
    t.at(0);
    await t.engine.observeService(s, "down", down);
    await t.settle();
    t.at(1);
    await t.engine.observeService(s, "healthy", fine);
    await t.settle();
    expect(t.told("b")).toEqual(["firing:critical", "resolved:critical"]);
    expect(t.told("a")).toEqual([]);
  });

  test("degraded is a warning, down an escalation of the same alert", async () => {
    const t = await timeline();
    const [svc] = await t.database.db.insert(services).values({ name: "db", kind: "database", escalationSeconds: 0 }).returning();
    const s = { id: svc!.id, name: "db", workerId: null, escalationSeconds: 0 };
    for (const [sec, status] of [
      [0, "degraded"],
      [1, "down"],
      [2, "degraded"],
      [3, "healthy"],
    ] as const) {
      t.at(sec);
      await t.engine.observeService(s, status, status === "healthy" ? fine : down);
      await t.settle();
    }
    expect(t.told()).toEqual(["firing:warning", "escalated:critical", "deescalated:warning", "resolved:warning"]);
  });
});

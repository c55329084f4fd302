// The pure state machine: levels with hysteresis in both directions, one step at a time, and what channels are owed.
import { describe, expect, test } from "bun:test";
import { levelOf, step, tellFor, type Levels, type OpenAlert, type Subject } from "./evaluate.ts";

const above: Levels = { direction: "above", warning: 70, critical: 85, hysteresis: 3 };
const below: Levels = { direction: "below", warning: 20, critical: 10, hysteresis: 2 };
const subject: Subject = { rule: "threshold:temperature", subject: "w1/gpu:G", workerId: 1, serviceId: null, gpuUuid: "G", gpuIndex: 0 };

describe("levelOf", () => {
  test("above: levels reached at their value; held ones clear only past the margin", () => {
    expect([69.9, 70, 84.9, 85, 120].map((v) => levelOf(v, above, "ok"))).toEqual(["ok", "warning", "warning", "critical", "critical"]);
    expect(levelOf(82.1, above, "critical")).toBe("critical");
    expect(levelOf(81.9, above, "critical")).toBe("warning");
    expect(levelOf(67.1, above, "warning")).toBe("warning");
    expect(levelOf(66.9, above, "warning")).toBe("ok");
    expect(levelOf(66.9, above, "critical")).toBe("ok");
  });

  test("below: the mirror image", () => {
    expect([25, 20, 10.1, 10, 0].map((v) => levelOf(v, below, "ok"))).toEqual(["ok", "warning", "warning", "critical", "critical"]);
    expect(levelOf(11.9, below, "critical")).toBe("critical");
    expect(levelOf(12.1, below, "critical")).toBe("warning");
    expect(levelOf(22.1, below, "warning")).toBe("ok");
  });

  test("a rule with only a critical level", () => {
    const only: Levels = { direction: "above", warning: null, critical: 85, hysteresis: 0 };
    expect([84, 85].map((v) => levelOf(v, only, "ok"))).toEqual(["ok", "critical"]);
  });
});

describe("step", () => {
  const value = (level: "ok" | "warning" | "critical", v = 0) => ({ kind: "value" as const, level, value: v, threshold: 85 });

  test("ok → pending → firing after for; pending that clears is dropped, not resolved", () => {
    const p = step(null, subject, value("critical", 90), 1000, 5000);
    expect([p.transition, p.next?.state]).toEqual(["pending", "pending"]);
    expect(step(p.next, subject, value("critical", 90), 5999, 5000).transition).toBeNull();
    const f = step(p.next, subject, value("critical", 90), 6000, 5000);
    expect([f.transition, f.next?.state, f.next?.firedAt]).toEqual(["firing", "firing", 6000]);
    expect(step(p.next, subject, value("ok"), 3000, 5000).transition).toBe("dropped");
    expect(step(f.next, subject, value("ok"), 7000, 5000).transition).toBe("resolved");
  });

  test("for 0 fires at once; a severity change while firing is an escalation of the same alert", () => {
    const f = step(null, subject, value("warning"), 0, 0);
    expect(f.transition).toBe("firing");
    const up = step({ ...f.next!, id: 7 }, subject, value("critical"), 1, 0);
    expect([up.transition, up.next?.id, up.next?.severity]).toEqual(["escalated", 7, "critical"]);
    expect(step(up.next, subject, value("warning"), 2, 0).transition).toBe("deescalated");
  });

  test("no data parks the alert; data back returns it to what it was; only data can resolve it", () => {
    const f = step(null, subject, value("critical"), 0, 0).next!;
    const n = step(f, subject, { kind: "nodata" }, 1, 0);
    expect([n.transition, n.next?.state, n.next?.stateBeforeNodata]).toEqual(["nodata", "nodata", "firing"]);
    expect(step(n.next, subject, { kind: "nodata" }, 2, 0).transition).toBeNull();
    const back = step(n.next, subject, value("critical"), 3, 0);
    expect([back.transition, back.next?.state]).toEqual([null, "firing"]);
    expect(step(n.next, subject, value("ok"), 3, 0).transition).toBe("resolved");
    expect(step(null, subject, { kind: "nodata" }, 0, 0)).toEqual({ next: null, transition: null });
  });
});

describe("tellFor", () => {
  const firing: OpenAlert = {
    ...subject,
    serviceId: null,
    id: 1,
    state: "firing",
    stateBeforeNodata: null,
    severity: "critical",
    value: 90,
    threshold: 85,
    startedAt: 0,
    firedAt: 0,
    notifiedSeverity: null,
    notifiedAt: null,
    tier: 1,
    ackedAt: null,
    ackedBy: null,
  };
  const policy = { suppressedBy: null, repeatMs: 0, escalationMs: 0, maxTier: 1 };

  test("a firing not yet told is owed, unless suppressed (and then why)", () => {
    expect(tellFor(firing, 0, policy)).toEqual({ event: "firing", tier: 1 });
    expect(tellFor(firing, 0, { ...policy, suppressedBy: "silenced" })).toEqual({ suppressed: "silenced" });
    expect(tellFor({ ...firing, state: "pending" }, 0, policy)).toBeNull();
  });

  test("told alerts owe severity changes, repeats and escalations; acknowledged ones only severity changes", () => {
    const told = { ...firing, notifiedSeverity: "critical" as const, notifiedAt: 0 };
    expect(tellFor(told, 10, policy)).toBeNull();
    expect(tellFor({ ...told, severity: "warning" }, 10, policy)).toEqual({ event: "deescalated", tier: 1 });
    expect(tellFor(told, 60_000, { ...policy, repeatMs: 60_000 })).toEqual({ event: "repeat", tier: 1 });
    expect(tellFor(told, 600_000, { ...policy, escalationMs: 600_000, maxTier: 2 })).toEqual({ event: "escalation", tier: 2 });
    expect(tellFor({ ...told, tier: 2 }, 900_000, { ...policy, escalationMs: 600_000, maxTier: 2 })).toBeNull();
    const acked = { ...told, ackedAt: 5, ackedBy: "user:a" };
    expect(tellFor(acked, 600_000, { ...policy, repeatMs: 60_000, escalationMs: 60_000, maxTier: 3 })).toBeNull();
    expect(tellFor({ ...acked, severity: "warning" }, 10, policy)).toEqual({ event: "deescalated", tier: 1 });
  });
});

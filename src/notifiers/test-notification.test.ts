import { describe, expect, test } from "bun:test";
import { NOTIFICATION_EVENTS } from "../alerts/notification.ts";
import { TEST_WORKER, testNotification } from "./test-notification.ts";

describe("testNotification", () => {
  test("a test event from the fake worker, naming the channel", () => {
    const n = testNotification("on-call Slack", { now: new Date("2026-05-04T10:00:00Z") });
    expect(n.event).toBe("test");
    expect(NOTIFICATION_EVENTS).toContain(n.event);
    expect(n.alert.worker.name).toBe(TEST_WORKER);
    expect(n.alert.worker.name).toBe("vigil-test");
    expect(n.at).toBe("2026-05-04T10:00:00.000Z");
    expect(n.text).toContain('"on-call Slack"');
    expect(n.title).toStartWith("TEST vigil-test");
    expect(n.alert.url).toBe("/alerts");
  });

  test("each test has its own delivery id; the link is absolute with a public URL", () => {
    const a = testNotification("x", { publicUrl: "https://vigil.example.com/" });
    const b = testNotification("x");
    expect(a.id).not.toBe(b.id);
    expect(a.alert.url).toBe("https://vigil.example.com/alerts");
  });
});

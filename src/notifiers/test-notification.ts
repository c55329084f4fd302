// The notification a channel's "send test" action delivers: a fake worker, so nobody mistakes it for a real alert.
import { randomUUID } from "node:crypto";
import type { AlertNotification } from "../alerts/notification.ts";

export const TEST_WORKER = "vigil-test";

/**
 * `channelName` is the channel as the operator named it, so a test sent to the wrong place says
 * which channel it came from. `publicUrl` (VIGIL_PUBLIC_URL) makes the link absolute.
 */
export function testNotification(channelName: string, opts: { publicUrl?: string; now?: Date } = {}): AlertNotification {
  const at = (opts.now ?? new Date()).toISOString();
  const path = "/alerts";
  return {
    id: `test-${randomUUID()}`,
    event: "test",
    severity: "warning",
    at,
    title: `TEST ${TEST_WORKER}: test notification from Vigil`,
    text: `This is a test of the channel "${channelName}". If you can read it, the channel works.\nNo action is needed.`,
    alert: {
      id: 0,
      rule: "builtin:test",
      ruleName: "test notification",
      state: "firing",
      worker: { id: 0, name: TEST_WORKER },
      gpu: null,
      value: null,
      threshold: null,
      unit: "",
      startedAt: at,
      firedAt: at,
      resolvedAt: null,
      url: opts.publicUrl ? `${opts.publicUrl.replace(/\/+$/, "")}${path}` : path,
    },
  };
}

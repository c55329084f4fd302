import { describe, expect, test } from "bun:test";
import { sampleNotification } from "../../test/notifiers/harness.ts";
import { dashboard } from "./dashboard.ts";
import { validateConfig } from "./registry.ts";

describe("dashboard channel", () => {
  test("send touches nothing: no fetch, no connection", async () => {
    const fail = () => Promise.reject(new Error("the dashboard channel must not connect anywhere"));
    await dashboard.send({}, sampleNotification(), { fetch: fail, checkHost: fail, timeoutMs: 1 });
  });

  test("takes no settings", () => {
    expect(validateConfig("dashboard", {})).toEqual([]);
    expect(validateConfig("dashboard", { url: "x" })).toEqual(["url is not a setting of this channel"]);
  });
});

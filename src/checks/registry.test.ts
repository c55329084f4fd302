import { describe, expect, test } from "bun:test";
import { checkContext } from "../../test/checks/harness.ts";
import { HEALTH_STATUSES, type Checker } from "./checker.ts";
import {
  buildCheckRegistry,
  CHECK_KINDS,
  CHECKERS,
  checkerOf,
  diagnoseCheck,
  isCheckKind,
  runCheck,
  validateCheckConfig,
} from "./registry.ts";

describe("check registry", () => {
  test("every kind has exactly one checker, with a label and a schema whose every field is described", () => {
    expect(CHECKERS.map((c) => c.kind).sort()).toEqual([...CHECK_KINDS].sort());
    for (const c of CHECKERS) {
      expect(checkerOf(c.kind)).toBe(c);
      expect(isCheckKind(c.kind)).toBe(true);
      expect(c.label.length).toBeGreaterThan(0);
      expect(c.schema.additionalProperties).toBe(false);
      for (const [field, schema] of Object.entries(c.schema.properties)) {
        const described = typeof (schema as { description?: string }).description === "string";
        expect({ kind: c.kind, field, described }).toEqual({ kind: c.kind, field, described: true });
      }
    }
    expect(CHECKERS.filter((c) => c.needsWorker).map((c) => c.kind)).toEqual(["agent", "unit", "worker-http", "worker-tcp"]);
    expect(HEALTH_STATUSES).toEqual(["healthy", "degraded", "down"]);
  });

  test("a duplicate, unexpected or missing kind stops start-up", () => {
    const [first, second] = CHECKERS as [Checker, Checker];
    expect(() => buildCheckRegistry([first, first], [first.kind])).toThrow(`check kind "${first.kind}" is registered twice`);
    expect(() => buildCheckRegistry([first, second], [first.kind])).toThrow(`check kind "${second.kind}" is not one of ${first.kind}`);
    expect(() => buildCheckRegistry([first], [first.kind, "ping"])).toThrow('no checker registered for check kind "ping"');
  });

  test("unknown kinds", () => {
    const known = `(known: ${CHECK_KINDS.join(", ")})`;
    expect(isCheckKind("ping")).toBe(false);
    expect(() => checkerOf("ping")).toThrow(`unknown check kind "ping" ${known}`);
    expect(validateCheckConfig("ping", {})).toEqual([`unknown check kind "ping" ${known}`]);
  });

  test("config problems read like the form", () => {
    expect(validateCheckConfig("tcp", { host: "db", port: 5432 })).toEqual([]);
    expect(validateCheckConfig("tcp", { host: "db" })).toEqual(["port is required"]);
    expect(validateCheckConfig("tcp", { host: "db", port: 70000 })).toEqual(["port: expected integer to be less or equal to 65535"]);
    expect(validateCheckConfig("filesystem", { path: "data", writeTest: "yes" })).toEqual([
      "path must match ^/",
      "writeTest: expected boolean",
    ]);
    expect(validateCheckConfig("unit", { unit: "bad unit; rm -rf" })).toEqual([expect.stringMatching(/^unit must match /)]);
    expect(validateCheckConfig("bus", { anything: 1 })).toEqual(["anything is not a setting of this check"]);
  });

  test("runCheck never throws: unknown kind, invalid config and a missing worker are down outcomes", async () => {
    expect(await runCheck("ping", {}, checkContext())).toMatchObject({
      status: "down",
      message: expect.stringContaining('unknown check kind "ping"'),
    });
    expect(await runCheck("tcp", { host: "db" }, checkContext())).toMatchObject({
      status: "down",
      message: "TCP port check config is invalid: port is required",
    });
    expect(await runCheck("unit", { unit: "comfyui.service" }, checkContext())).toMatchObject({
      status: "down",
      message: "systemd unit on a worker: this check needs a worker; choose the worker it runs on",
    });
    // A head-side check handed a context without a head: the bug is a down outcome, not an exception.
    const o = await runCheck("database", {}, checkContext());
    expect(o.status).toBe("down");
    expect(o.message).toContain("this test gave the check no head");
  });

  test("diagnoseCheck: the checker's own look, or its outcome line by line", async () => {
    expect(await diagnoseCheck("tcp", {}, checkContext())).toEqual([
      "TCP port check config is invalid: host is required; port is required",
    ]);
    const lines = await diagnoseCheck("unit", { unit: "x" }, checkContext({ workerId: 7 }));
    expect(lines[0]).toBe("down: unit x: agent of worker 7 is not connected");
    expect(lines).toContain('unit: "x"');
  });
});

import { describe, expect, test } from "bun:test";
import { actorOf, tokenScope, wantsJson } from "./principal.ts";
import { ACCESS_RULES, isRole, roleAllows, ROLES } from "./roles.ts";

describe("roles", () => {
  test("admin may do everything, viewer only public and viewer routes", () => {
    expect(ROLES).toEqual(["admin", "viewer"]);
    expect(ACCESS_RULES).toEqual(["public", "viewer", "admin", "agent"]);
    // No user role opens agent routes: only an agent's own secret does.
    expect(roleAllows("admin", "agent")).toBe(false);
    expect(roleAllows("viewer", "agent")).toBe(false);
    expect(roleAllows("admin", "public")).toBe(true);
    expect(roleAllows("admin", "viewer")).toBe(true);
    expect(roleAllows("admin", "admin")).toBe(true);
    expect(roleAllows("viewer", "public")).toBe(true);
    expect(roleAllows("viewer", "viewer")).toBe(true);
    expect(roleAllows("viewer", "admin")).toBe(false);
  });

  test("isRole accepts exactly the two role names", () => {
    expect(isRole("admin")).toBe(true);
    expect(isRole("viewer")).toBe(true);
    for (const v of ["Admin", "ADMIN", "public", "", " admin", null, undefined, 0, ["admin"]]) expect(isRole(v)).toBe(false);
  });
});

describe("principal", () => {
  test("actorOf labels users, tokens and anonymous callers for the audit log", () => {
    expect(actorOf(null, "192.0.2.1")).toEqual({ label: "anonymous", ip: "192.0.2.1" });
    expect(actorOf({ kind: "user", userId: 3, name: "alice", role: "admin", sessionId: "s" }, "::1")).toEqual({
      label: "user:alice",
      userId: 3,
      ip: "::1",
    });
    expect(actorOf({ kind: "token", tokenId: 9, name: "ci", role: "viewer" }, null)).toEqual({ label: "token:ci", ip: null });
    expect(actorOf({ kind: "agent", workerId: 4, name: "gpu-07", interval: 1, secret: "x" }, "10.0.0.7")).toEqual({
      label: "agent:gpu-07",
      ip: "10.0.0.7",
    });
  });

  test("bearer tokens count only on the JSON API and /metrics", () => {
    expect(tokenScope("/api/v1/workers")).toBe(true);
    expect(tokenScope("/metrics")).toBe(true);
    expect(tokenScope("/")).toBe(false);
    expect(tokenScope("/admin/users")).toBe(false);
    expect(tokenScope("/api/v1")).toBe(false);
    expect(tokenScope("/metrics/extra")).toBe(false);
    expect(tokenScope("/api/v2/workers")).toBe(false);
  });

  test("API paths and /healthz answer in JSON, pages redirect", () => {
    expect(wantsJson("/api/v1/workers")).toBe(true);
    expect(wantsJson("/metrics")).toBe(true);
    expect(wantsJson("/healthz")).toBe(true);
    expect(wantsJson("/")).toBe(false);
    expect(wantsJson("/login")).toBe(false);
  });
});

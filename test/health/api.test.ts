// /api/v1/services through the real app: the error answers every handler now leaves to the app's one error handler.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestHead, type TestHead } from "../harness/head.ts";

let head: TestHead;
beforeAll(async () => {
  head = await startTestHead("pglite");
}, 60_000);
afterAll(async () => {
  await head.close();
});

const call = async (method: string, path: string, json?: unknown, as: "admin-token" | "viewer-token" = "admin-token") => {
  const r = await head.request(path, { method, json, as });
  return { status: r.status, body: (await r.json()) as { error?: string } & Record<string, unknown> };
};

test("bad input is a 400 that says what to fix; an unknown id a 404; a viewer may not change anything", async () => {
  const bad = await call("POST", "/api/v1/services", { name: "web", kind: "carrier-pigeon" });
  expect(bad.status).toBe(400);
  expect(bad.body.error).toStartWith("kind: expected one of vigil, database, http");

  const noUrl = await call("POST", "/api/v1/services", { name: "web", kind: "http", config: {} });
  expect(noUrl.status).toBe(400);
  expect(noUrl.body.error).toContain("url");

  for (const [method, path] of [
    ["GET", "/api/v1/services/999999"],
    ["DELETE", "/api/v1/services/999999"],
    ["POST", "/api/v1/services/abc/check"],
  ] as const) {
    const r = await call(method, path);
    expect(r.status, `${method} ${path}`).toBe(404);
    expect(r.body.error).toMatch(/^no service with id/);
  }

  const viewer = await call(
    "POST",
    "/api/v1/services",
    { name: "web", kind: "tcp", config: { host: "127.0.0.1", port: 1 } },
    "viewer-token",
  );
  expect(viewer.status).toBe(403);
});

test("a restart of a unit on a worker whose agent is away is a 409 naming the worker", async () => {
  const made = await call("POST", "/api/v1/services", {
    name: "comfy",
    kind: "unit",
    workerId: head.agent.workerId,
    config: { unit: "comfyui.service" },
  });
  expect(made.status).toBe(201);
  const id = (made.body.service as { id: number }).id;
  const r = await call("POST", `/api/v1/services/${id}/restart`, {});
  expect(r.status).toBe(409);
  expect(r.body.error).toContain(head.agent.name);
});

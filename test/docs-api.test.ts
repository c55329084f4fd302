// The API documents itself: /api/openapi.json is valid OpenAPI, lists every /api/v1 route with a summary and examples, and /api/docs shows it to viewers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { accessOf } from "../src/app.ts";
import { upsertWorker } from "../src/fleet/workers.ts";
import { ACCESS_DETAIL_KEY } from "../src/auth/plugin.ts";
import type { OpenApiDocument, Operation } from "../src/routes/openapi.ts";
import { ApiDocsPage, curlExample } from "../views/pages/api-docs.tsx";
import { startTestHead, type TestHead } from "./harness/head.ts";
import { makeSample } from "./fixtures/samples.ts";

/** `/api/v1/workers/:id` as OpenAPI writes it: `/api/v1/workers/{id}`. */
const openApiPath = (path: string) => path.replace(/:([^/]+)/g, "{$1}");
/** Elysia's WebSocket routes are GETs that upgrade. */
const openApiMethod = (method: string) => (method === "WS" ? "get" : method.toLowerCase());

function operations(document: OpenApiDocument): { method: string; path: string; op: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method, path, op })));
}

/** Examples of the answers when all goes well (the 401/403 examples come with every protected route, so they do not count). */
function examplesOf(op: Operation): unknown[] {
  const success = Object.entries(op.responses).filter(([status]) => Number(status) < 400);
  return success.flatMap(([, r]) => Object.values(r.content ?? {}).map((m) => m.example)).filter((e) => e !== undefined);
}

describe("API docs", () => {
  let head: TestHead;
  let document: OpenApiDocument;
  let workerId: number;
  beforeAll(async () => {
    head = await startTestHead("pglite");
    workerId = await upsertWorker(head.database.db, { name: "gpu-docs", kind: "remote" });
    await head.ctx.ingestor.ingest({ id: workerId, name: "gpu-docs" }, makeSample(1, { ts: new Date(Date.now() - 500) }));
    const res = await head.request("/api/openapi.json", { as: "viewer" });
    expect(res.status).toBe(200);
    document = await res.json();
  }, 60_000);
  afterAll(() => head.close());

  test("/api/openapi.json needs a viewer: a session or an API token (scripts and code generators hold tokens)", async () => {
    const anonymous = await head.request("/api/openapi.json");
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: "authentication required: sign in or send Authorization: Bearer <token>" });
    expect((await head.request("/api/openapi.json", { as: "agent" })).status).toBe(401);
    for (const as of ["viewer", "admin", "viewer-token", "admin-token"] as const) {
      const res = await head.request("/api/openapi.json", { as });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toStartWith("application/json");
    }
  });

  test("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toStartWith("3.1.");
    expect(document.info.title).toBe("Vigil API");
  });

  test("says how to authenticate: a bearer token or the session cookie; agents with their own secret", () => {
    const schemes = document.components.securitySchemes;
    expect(schemes.bearerToken).toMatchObject({ type: "http", scheme: "bearer" });
    expect(schemes.sessionCookie).toMatchObject({ type: "apiKey", in: "cookie" });
    expect(schemes.agentSecret).toMatchObject({ type: "http", scheme: "bearer" });
    expect(document.security).toEqual([{ bearerToken: [] }, { sessionCookie: [] }]);
  });

  test("every /api/v1 route of the app is in the document (a new route without docs fails here)", () => {
    const routes = head.app.routes.filter((r) => r.path.startsWith("/api/v1/"));
    expect(routes.length).toBeGreaterThan(10);
    const missing = routes.filter((r) => !document.paths[openApiPath(r.path)]?.[openApiMethod(r.method)]);
    expect(missing.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  test("every documented /api/v1 endpoint has a tag, a summary, its role, and examples", () => {
    const problems: string[] = [];
    const routes = new Map(head.app.routes.map((r) => [`${openApiMethod(r.method)} ${openApiPath(r.path)}`, r]));
    for (const { method, path, op } of operations(document)) {
      if (!path.startsWith("/api/v1/")) continue;
      const at = `${method.toUpperCase()} ${path}`;
      if (!op.summary?.trim()) problems.push(`${at}: no summary`);
      if (!op.tags?.length || !document.tags.some((t) => t.name === op.tags![0])) problems.push(`${at}: no known tag`);
      const rule = accessOf(routes.get(`${method} ${path}`) ?? {});
      if (op[ACCESS_DETAIL_KEY] !== rule) problems.push(`${at}: x-vigil-access ${op[ACCESS_DETAIL_KEY]} but the route says ${rule}`);
      if (
        !op.description?.includes(
          rule === "public" ? "Public" : rule === "agent" ? "Agents only" : `Needs a${rule === "admin" ? "n admin" : " viewer"}`,
        )
      )
        problems.push(`${at}: the description does not name the role`);
      if (rule !== "public" && !op.security?.length) problems.push(`${at}: no security requirement`);
      if (examplesOf(op).length === 0) problems.push(`${at}: no example of a successful answer`);
      for (const p of op.parameters ?? []) {
        if ((p.in === "path" || p.required) && p.example === undefined) problems.push(`${at}: parameter ${p.name} has no example`);
        if (!p.description) problems.push(`${at}: parameter ${p.name} has no description`);
      }
      if (op.requestBody && Object.values(op.requestBody.content).every((m) => m.example === undefined))
        problems.push(`${at}: request body without an example`);
    }
    expect(problems).toEqual([]);
  });

  test("public routes say so; protected ones list the 401 (and 403) they give", () => {
    const health = document.paths["/healthz"]?.get;
    expect(health?.security).toEqual([]);
    expect(examplesOf(health!).length).toBeGreaterThan(0);
    const list = document.paths["/api/v1/workers"]!.get!;
    expect(list.responses["401"]).toBeDefined();
    const create = document.paths["/api/v1/workers"]!.post!;
    expect(create[ACCESS_DETAIL_KEY]).toBe("admin");
    expect(create.responses["403"]).toBeDefined();
    expect(create.requestBody?.content["application/json"]?.example).toEqual({ name: "gpu-07" });
    const ws = document.paths["/api/v1/agent/ws"]!.get!;
    expect(ws["x-vigil-websocket"]).toBe(true);
    expect(ws.security).toEqual([{ agentSecret: [] }]);
  });

  test("pages, forms and files are left out", () => {
    for (const path of [
      "/",
      "/login",
      "/logout",
      "/account/password",
      "/admin/users",
      "/admin/tokens",
      "/admin/audit",
      "/static/{name}",
      "/install.sh",
      "/api/docs",
    ])
      expect(document.paths[path]).toBeUndefined();
  });

  test("examples name only fields the API really returns", async () => {
    const problems: string[] = [];
    for (const { method, path, op } of operations(document)) {
      if (method !== "get" || op["x-vigil-websocket"] || !path.startsWith("/api/v1/")) continue;
      const example = op.responses["200"]?.content?.["application/json"]?.example;
      if (!example || typeof example !== "object") continue;
      const url = path
        .replace("{id}", String(workerId))
        .replace(/\{([^}]+)\}/g, (_, n: string) => String(op.parameters?.find((p) => p.name === n)?.example));
      const res = await head.request(url, { as: "viewer" });
      if (res.status !== 200 || !res.headers.get("content-type")?.startsWith("application/json")) continue;
      const actual = (await res.json()) as Record<string, unknown>;
      const extra = Object.keys(example).filter((k) => !(k in actual));
      if (extra.length) problems.push(`GET ${path}: the example has ${extra.join(", ")}, the answer does not`);
    }
    expect(problems).toEqual([]);
  });

  test("/api/docs: signed-in viewers get the page, anonymous browsers the sign-in", async () => {
    const anonymous = await head.request("/api/docs");
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toStartWith("/login?next=");
    const res = await head.request("/api/docs", { as: "viewer" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/html");
    const html = await res.text();
    expect(html).toStartWith("<!doctype html>");
    // The CSP allows no inline script or style: the page has none, and loads nothing from elsewhere.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toContain("<style");
    expect(html).not.toContain(" style=");
    expect(html).not.toMatch(/(src|href)="https?:/);
    for (const { method, path, op } of operations(document)) {
      expect(html).toContain(Bun.escapeHTML(path));
      expect(html).toContain(Bun.escapeHTML(op.summary ?? ""));
      if (!op["x-vigil-websocket"]) expect(html).toContain(Bun.escapeHTML(curlExample("http://vigil.test", method, path, op)!));
    }
    expect(html).toContain(Bun.escapeHTML(`curl -sS -H "Authorization: Bearer $VIGIL_TOKEN" 'http://vigil.test/api/v1/workers/7'`));
  });

  test("the page escapes everything it shows", async () => {
    const evil = "<script>alert(1)</script>";
    const doc: OpenApiDocument = {
      openapi: "3.1.2",
      info: { title: evil, version: evil, description: evil },
      tags: [{ name: "Fleet", description: evil }],
      paths: {
        "/api/v1/x/{id}": {
          post: {
            tags: ["Fleet"],
            summary: evil,
            description: evil,
            operationId: evil,
            [ACCESS_DETAIL_KEY]: "viewer",
            parameters: [{ name: evil, in: "path", required: true, description: evil, example: evil }],
            requestBody: { description: evil, content: { "application/json": { example: { name: evil } } } },
            responses: { "200": { description: evil, content: { [evil]: { example: evil } } } },
          },
        },
      },
      components: { schemas: {}, securitySchemes: {} },
      security: [],
    };
    const html = await ApiDocsPage({ document: doc, viewer: { name: evil, role: "viewer" }, base: "http://vigil.test" });
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });
});

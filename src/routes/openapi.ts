// The API's OpenAPI document (@elysiajs/openapi's generator over every route's schemas and `detail`) at /api/openapi.json and /api/docs; `doc()` for routes.
import { Elysia, t, type AnyElysia, type DocumentDecoration } from "elysia";
// The plugin's generator, not the plugin: its own spec route would carry no access rule (createApp refuses such a
// route), and its Scalar / Swagger UI pages load scripts from a CDN, which the appliance's CSP and offline use forbid.
import { toOpenAPISchema } from "@elysiajs/openapi/openapi";
import { ACCESS_DETAIL_KEY } from "../auth/plugin.ts";
import type { Access } from "../auth/roles.ts";
import { SESSION_COOKIE } from "../auth/sessions.ts";
import type { HeadContext } from "../head/context.ts";
import { VERSION } from "../version.ts";
import { ApiDocsPage } from "../../views/pages/api-docs.tsx";
import { guard } from "./guard.ts";
import { htmlPage } from "./respond.ts";
import { viewerOf } from "./viewer.ts";

export const OPENAPI_PATH = "/api/openapi.json";
export const DOCS_PATH = "/api/docs";
const OPENAPI_VERSION = "3.1.2";

/** The document's sections, in the order the docs page shows them. A route's `tag` must be one of these. */
export const TAGS = [
  { name: "Fleet", description: "Workers, their GPUs and their latest samples, as they are now." },
  { name: "History", description: "Stored samples over time: series, statistics, processes; JSON or CSV." },
  { name: "Alerts", description: "Alerts and their history, silences, threshold rules, built-in rules and notification channels." },
  { name: "Workers", description: "Registering workers, rotating or revoking their credentials, restarting their services (admins)." },
  { name: "Prometheus", description: "The exposition that Prometheus scrapes: dcgm-exporter's and node_exporter's series names." },
  { name: "Agents", description: "What the agents on the workers call, with their own secret: enrollment, the WebSocket, batch ingest." },
  { name: "Health", description: "Liveness and readiness for load balancers and deploy scripts." },
  { name: "Docs", description: "This document." },
] as const;
export type Tag = (typeof TAGS)[number]["name"];

/** A JSON Schema for documentation (a body the handler validates itself, so its own error messages stand). */
export type JsonSchema = Record<string, unknown>;

export interface DocSpec {
  tag: Tag;
  /** One line: what the call does. */
  summary: string;
  /** More, in plain sentences (the needed role is added to it from the route's access rule). */
  description?: string;
  /** The answer when all goes well. */
  response: {
    /** Default 200. */
    status?: number;
    description: string;
    /** An example body; a JSON value unless contentType says otherwise. */
    example: unknown;
    /** Default application/json. */
    contentType?: string;
    /** The same answer in other formats, by content type, e.g. `{ "text/csv": "ts,gpu,utilization\n…" }`. */
    also?: Record<string, unknown>;
  };
  /**
   * Other answers worth knowing, by status: the `error` message of the JSON body `{ "error": … }`, or a description
   * and an example body when the answer has another shape. 401 and 403 are added from the route's access rule.
   */
  errors?: Record<number, string | { description: string; example: unknown }>;
  /** A request body, documented only: Elysia does not validate it, the handler does. */
  body?: { description?: string; required?: boolean; schema: JsonSchema; example: unknown; contentType?: string };
}

const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No content",
  400: "Bad request",
  401: "Not signed in, or the token is invalid, expired or revoked",
  403: "Forbidden",
  404: "Not found",
  409: "Conflict",
  413: "Payload too large",
  429: "Too many requests",
  503: "Unavailable",
};

/**
 * A route's OpenAPI detail: `{ access: "viewer", params: WORKER_ID_PARAMS, detail: doc({ tag, summary, response }) }`.
 * Parameters come from the route's TypeBox schemas (`params`, or `query: queryParams({...})`), with `description` and
 * `examples` on each. Call it once per route: Elysia merges the route's access rule into the object it returns.
 */
export function doc(spec: DocSpec): DocumentDecoration {
  const status = spec.response.status ?? 200;
  const content: Record<string, { example: unknown }> = {
    [spec.response.contentType ?? "application/json"]: { example: spec.response.example },
  };
  for (const [type, example] of Object.entries(spec.response.also ?? {})) content[type] = { example };
  const responses: Record<string, { description: string; content?: Record<string, { example: unknown }> }> = {
    [String(status)]: { description: spec.response.description, content },
  };
  for (const [code, error] of Object.entries(spec.errors ?? {})) {
    const reason = REASONS[Number(code)] ?? "Error";
    responses[code] =
      typeof error === "string"
        ? { description: `${reason}: ${error}`, content: { "application/json": { example: { error } } } }
        : { description: `${reason}: ${error.description}`, content: { "application/json": { example: error.example } } };
  }
  const detail: DocumentDecoration = { tags: [spec.tag], summary: spec.summary, responses };
  if (spec.description) detail.description = spec.description;
  if (spec.body) {
    detail.requestBody = {
      description: spec.body.description,
      required: spec.body.required ?? true,
      content: { [spec.body.contentType ?? "application/json"]: { schema: spec.body.schema, example: spec.body.example } },
    };
  }
  return detail;
}

/**
 * Pages, forms and files: not part of the API, left out of the document. A fresh object per route, as doc()'s are:
 * Elysia merges the route's access rule into its detail object, so one shared object would end up with one rule for all.
 */
export function hidden(): DocumentDecoration {
  return { hide: true };
}

/** `:id` of /api/v1/workers/:id/…: any string is accepted here; the handler answers 404 for one that names no worker. */
export const WORKER_ID_PARAMS = t.Object({
  id: t.String({ description: "The worker's id, from GET /api/v1/workers.", examples: ["7"] }),
});

/**
 * A route's query parameters, for the document: each an optional string, so Elysia lets every value through and the
 * handler keeps its own checks and 400 messages. Note that with a query schema Elysia drops keys it does not name
 * (declare every one the handler reads) and a repeated key gives its last value.
 */
export function queryParams(spec: Record<string, { description: string; example: string }>) {
  return t.Object(
    Object.fromEntries(
      Object.entries(spec).map(([name, p]) => [name, t.Optional(t.String({ description: p.description, examples: [p.example] }))]),
    ),
  );
}

/** One wire sample as an agent sends it and the API returns it (DESIGN.md), shared by the examples of several routes. */
export const EXAMPLE_SAMPLE = {
  seq: 812,
  ts: "2026-11-23T10:00:01.000Z",
  host: {
    hostname: "gpu-07",
    cpuPercent: 12.5,
    load: [0.5, 0.4, 0.3],
    memoryUsed: 12884901888,
    memoryTotal: 68719476736,
    swapUsed: 0,
    swapTotal: 0,
    uptimeSeconds: 86400,
    disks: [{ mount: "/", used: 412316860416, total: 1919850381312, inodesUsed: 2417566, inodesTotal: 119341056 }],
    diskReadBps: 0,
    diskWriteBps: 65536,
    netRxBps: 1048576,
    netTxBps: 524288,
  },
  gpus: [
    {
      index: 0,
      uuid: "GPU-5c1a7e2e-0d7b-4f0c-9a51-3f1d2b6c8e90",
      name: "NVIDIA H100 80GB HBM3",
      driverVersion: "580.65.06",
      cudaVersion: "13.0",
      utilization: 97,
      memoryUtilization: 40,
      memoryUsed: 40000,
      memoryTotal: 81559,
      memoryFree: 41559,
      temperature: 71,
      powerUsage: 612.5,
      powerLimit: 700,
      fanSpeed: null,
      smClock: 1980,
      memoryClock: 2619,
      pcieTxKBps: 1200,
      pcieRxKBps: 800,
      encoderUtilization: 0,
      decoderUtilization: 0,
      pstate: 0,
      throttleReasons: [],
      eccCorrected: 0,
      eccUncorrected: 0,
      processes: [{ pid: 4242, name: "python3", user: "alice", usedMemoryMiB: 39000, container: null }],
    },
  ],
  gpuSource: "nvml",
};

// ---- the document ------------------------------------------------------------------------------------------------

export interface Parameter {
  name: string;
  /** path, query, header or cookie. */
  in: string;
  required?: boolean;
  description?: string;
  example?: unknown;
  schema?: JsonSchema;
}
export interface MediaType {
  schema?: JsonSchema;
  example?: unknown;
}
export interface Operation {
  tags?: string[];
  summary?: string;
  description?: string;
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { description?: string; required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, { description: string; content?: Record<string, MediaType> }>;
  security?: Record<string, string[]>[];
  [ACCESS_DETAIL_KEY]?: Access;
  /** Set on the agents' WebSocket: a GET that upgrades, not a request and a response. */
  "x-vigil-websocket"?: boolean;
}
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, Record<string, unknown>> };
  security: Record<string, string[]>[];
}

export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** Who may call, in the words the docs use; also appended to each operation's description. */
export const ACCESS_TEXT: Record<Access, string> = {
  public: "Public: no credential needed.",
  viewer: "Needs a viewer or admin: a session cookie, or Authorization: Bearer with an API token.",
  admin: "Needs an admin: an admin's session cookie, or Authorization: Bearer with an admin API token.",
  agent: "Agents only: Authorization: Bearer with the worker's own agent secret (from enrollment).",
};

const USER_SECURITY: Record<string, string[]>[] = [{ bearerToken: [] }, { sessionCookie: [] }];
const SECURITY: Record<Access, Record<string, string[]>[]> = {
  public: [],
  viewer: USER_SECURITY,
  admin: USER_SECURITY,
  agent: [{ agentSecret: [] }],
};

const DENIALS: Record<Access, Record<string, string>> = {
  public: {},
  viewer: { 401: "authentication required: sign in or send Authorization: Bearer <token>" },
  admin: { 401: "authentication required: sign in or send Authorization: Bearer <token>", 403: "forbidden: this needs the admin role" },
  agent: {
    401: "authentication required: sign in or send Authorization: Bearer <token>",
    403: "forbidden: only a worker's agent, with its own secret, may call this",
  },
};

/**
 * The generator's output made whole: who may call each operation (security, and a line in its description),
 * the 401/403 answers its access rule gives, parameter examples lifted out of their schemas, the agents'
 * WebSocket as the GET it is, and the document's info, tags and security schemes.
 */
export function buildDocument(app: AnyElysia): OpenApiDocument {
  const generated = toOpenAPISchema(app, { staticFile: false }, undefined, undefined, OPENAPI_VERSION);
  const paths: OpenApiDocument["paths"] = {};
  for (const [path, item] of Object.entries(generated.paths as Record<string, Record<string, Operation>>)) {
    for (const [rawMethod, generatedOp] of Object.entries(item ?? {})) {
      const websocket = rawMethod === "ws";
      const method = websocket ? "get" : rawMethod;
      if (!(HTTP_METHODS as readonly string[]).includes(method)) continue;
      const op: Operation = { ...generatedOp, responses: { ...generatedOp.responses } };
      const access = op[ACCESS_DETAIL_KEY] ?? "public";
      op.description = [op.description, ACCESS_TEXT[access]].filter(Boolean).join("\n\n");
      op.security = SECURITY[access];
      for (const [status, message] of Object.entries(DENIALS[access])) {
        op.responses[status] ??= {
          description: `${REASONS[Number(status)]}`,
          content: { "application/json": { example: { error: message } } },
        };
      }
      if (Object.keys(op.responses).length === 0) op.responses["200"] = { description: "OK" };
      if (op.parameters) op.parameters = op.parameters.map(liftParameter);
      if (websocket) {
        op["x-vigil-websocket"] = true;
        op.operationId = op.operationId?.replace(/^ws/, "get");
      }
      (paths[path] ??= {})[method] = op;
    }
  }
  const used = new Set(Object.values(paths).flatMap((item) => Object.values(item).flatMap((op) => op.tags ?? [])));
  const tags: { name: string; description: string }[] = TAGS.filter((tag) => used.has(tag.name)).map((tag) => ({ ...tag }));
  for (const name of used) if (!tags.some((tag) => tag.name === name)) tags.push({ name, description: "" });
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: "Vigil API",
      version: VERSION,
      description:
        "The JSON API of a Vigil head (GPU fleet monitor). Times are ISO 8601, in and out. " +
        "Scripts send `Authorization: Bearer <token>` with an API token (create one on the Tokens page or with " +
        "`vigil token create --name N --role viewer|admin`); a browser's session cookie works too. Viewers may read, " +
        'admins may also change things. Errors are JSON: `{ "error": "what went wrong" }`.',
    },
    tags,
    paths,
    components: {
      schemas: generated.components.schemas ?? {},
      securitySchemes: {
        bearerToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "vgl_…",
          description: "An API token (vgl_…): `Authorization: Bearer vgl_…`. It carries a role, viewer or admin.",
        },
        sessionCookie: {
          type: "apiKey",
          in: "cookie",
          name: SESSION_COOKIE,
          description: "The browser's session after signing in at /login.",
        },
        agentSecret: {
          type: "http",
          scheme: "bearer",
          description: "A worker's agent secret, handed out once at enrollment (POST /api/v1/agent/enroll).",
        },
      },
    },
    security: USER_SECURITY,
  };
}

/** A parameter's description and example live in its TypeBox schema; OpenAPI tools read them from the parameter. */
function liftParameter(p: Parameter): Parameter {
  const schema = p.schema ?? {};
  const examples = schema.examples;
  const out: Parameter = { ...p };
  if (out.description === undefined && typeof schema.description === "string") out.description = schema.description;
  if (out.example === undefined && Array.isArray(examples) && examples.length > 0) out.example = examples[0];
  return out;
}

/** The head's address for curl examples: the public URL if set, else the address this page was asked for. */
function headBase(ctx: HeadContext, client: { host: string | null; secure: boolean }): string {
  if (ctx.config.publicUrl) return ctx.config.publicUrl.replace(/\/$/, "");
  // The Host header is the client's to choose: only a plain host[:port] goes into a line meant for pasting into a shell.
  const host = client.host && /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/.test(client.host) ? client.host : null;
  return host ? `${client.secure ? "https" : "http"}://${host}` : "http://HEAD:8480";
}

export function openApiRoutes(ctx: HeadContext) {
  // Built on first use, when every route group is registered; built again only if routes were added since.
  let cached: { routes: number; document: OpenApiDocument } | undefined;
  const group = new Elysia({ name: "openapi" }).use(guard(ctx));
  // `getGlobalRoutes` is the whole app's once the group is mounted (Elysia rebinds it on `use`).
  const documentOf = () => {
    // Protected in Elysia's types; the plugin's generator calls the same method.
    const routes = (group as unknown as { getGlobalRoutes(): unknown[] }).getGlobalRoutes().length;
    if (cached?.routes !== routes) cached = { routes, document: buildDocument(group) };
    return cached.document;
  };
  return group
    .get(OPENAPI_PATH, () => documentOf(), {
      access: "viewer",
      detail: doc({
        tag: "Docs",
        summary: "This API's OpenAPI 3.1 document",
        description:
          "Generated from the routes themselves, so it lists every endpoint this head serves. The page /api/docs shows the same.",
        response: {
          description: "The OpenAPI document",
          example: { openapi: OPENAPI_VERSION, info: { title: "Vigil API", version: VERSION }, paths: { "/api/v1/workers": { get: {} } } },
        },
      }),
    })
    .get(
      DOCS_PATH,
      ({ principal, client }) =>
        htmlPage(ApiDocsPage({ document: documentOf(), viewer: viewerOf(principal), base: headBase(ctx, client) })),
      { access: "viewer", detail: hidden() },
    );
}

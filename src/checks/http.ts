// The HTTP(S) check: a GET or HEAD through the guarded fetch, judged on status, an optional keyword or JSON value, latency and the certificate's expiry.
import { Type, type Static } from "@sinclair/typebox";
import type { Checker, CheckContext, CheckOutcome } from "./checker.ts";
import { daysLeft, peerCertificate, resolvedAddresses, type CertificateFacts } from "./connect.ts";
import { answered, diagnoseLines, down, errorText, failure, neverThrows, roundMs, since, withDeadline, worst } from "./outcome.ts";

/** Codes and ranges, comma-separated: "200", "200-299,301". */
const STATUS_SPEC = "^[1-5]\\d{2}(-[1-5]\\d{2})?(,[1-5]\\d{2}(-[1-5]\\d{2})?)*$";
export const DEFAULT_EXPECT_STATUS = "200-399";
export const DEFAULT_TLS_WARN_DAYS = 14;
/** RFC 9110 token characters: what a header name may be made of. */
const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/** The most of a body read for the keyword and the JSON value; a health page is far smaller. */
export const MAX_BODY_BYTES = 1024 * 1024;

export const httpSchema = Type.Object(
  {
    url: Type.String({
      pattern: "^https?://",
      description: "The address to request (http:// or https://). Redirects are followed, each hop checked by the outbound policy.",
      examples: ["https://inference.example.com/health"],
    }),
    method: Type.Optional(
      Type.Union([Type.Literal("GET"), Type.Literal("HEAD")], {
        default: "GET",
        description: "GET (default) or HEAD. HEAD reads no body, so keyword and jsonPath need GET.",
      }),
    ),
    expectStatus: Type.Optional(
      Type.String({
        pattern: STATUS_SPEC,
        default: DEFAULT_EXPECT_STATUS,
        description: `The statuses that count as up: codes and ranges, comma-separated. Default "${DEFAULT_EXPECT_STATUS}".`,
        examples: ["200", "200-299,301"],
      }),
    ),
    keyword: Type.Optional(
      Type.String({ minLength: 1, description: "Text that must appear in the body (case-sensitive).", examples: ['"ready"'] }),
    ),
    jsonPath: Type.Optional(
      Type.String({
        pattern: "^[^.\\s]+(\\.[^.\\s]+)*$",
        description:
          'A dotted path into the JSON body that must exist, e.g. "status.ready"; a number indexes an array ("models.0.loaded").',
        examples: ["status.ready"],
      }),
    ),
    jsonEquals: Type.Optional(
      Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()], {
        description:
          'The value found at jsonPath must equal this. A string also matches a number or boolean written the same ("true" matches true).',
        examples: [true, "ok"],
      }),
    ),
    tlsWarnDays: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 365,
        default: DEFAULT_TLS_WARN_DAYS,
        description: `https only: degraded when the certificate expires within this many days (down once expired). Default ${DEFAULT_TLS_WARN_DAYS}; 0 skips the certificate look.`,
      }),
    ),
    ignoreTlsErrors: Type.Optional(
      Type.Boolean({
        default: false,
        description: "Accept a certificate that does not verify (self-signed, a private CA, another name). Its expiry is still checked.",
      }),
    ),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: HEADER_NAME }), Type.String({ pattern: "^[^\\r\\n]*$" }), {
        additionalProperties: false,
        description: "Extra request headers, e.g. an Authorization token the endpoint wants.",
        examples: [{ Authorization: "Bearer 3f1c…" }],
      }),
    ),
  },
  { additionalProperties: false },
);

export type HttpConfig = Static<typeof httpSchema>;

/** Whether `status` is one of `spec` ("200-299,301"). */
export function statusMatches(spec: string, status: number): boolean {
  return spec.split(",").some((part) => {
    const [from, to = from] = part.split("-").map(Number) as [number, number?];
    return status >= from && status <= to;
  });
}

/** The value at a dotted path ("status.ready", "models.0.loaded"); found is false when any step is missing. */
export function valueAt(value: unknown, path: string): { found: boolean; value?: unknown } {
  let cur = value;
  for (const key of path.split(".")) {
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, key)) return { found: false };
    cur = (cur as Record<string, unknown>)[key];
  }
  return { found: true, value: cur };
}

/** jsonEquals' rule: equal, or a string equal to how a number or boolean is written. */
export function jsonValueMatches(actual: unknown, expected: string | number | boolean | null): boolean {
  if (actual === expected) return true;
  return typeof expected === "string" && (typeof actual === "number" || typeof actual === "boolean") && String(actual) === expected;
}

/** A URL for messages and details: no credentials and no query (it may carry a token), the path kept since it says what is checked. */
export function shownUrl(url: string | URL): string {
  try {
    const u = typeof url === "string" ? new URL(url) : url;
    return `${u.origin}${u.pathname}${u.search ? "?…" : ""}`;
  } catch {
    return "(invalid URL)";
  }
}

interface Answer {
  status: number;
  statusText: string;
  headers: Headers;
  body: string;
  bytes: number;
  truncated: boolean;
  finalUrl: string;
  latencyMs: number;
}

/** Reads at most `max` bytes of the body, then lets the rest go. */
async function readCapped(res: Response, max: number): Promise<{ text: string; bytes: number; truncated: boolean }> {
  if (!res.body) return { text: "", bytes: 0, truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    bytes += value.byteLength;
    if (bytes >= max) {
      truncated = true;
      await reader.cancel().catch(() => {});
      break;
    }
  }
  return { text: new TextDecoder().decode(Buffer.concat(chunks).subarray(0, max)), bytes: Math.min(bytes, max), truncated };
}

async function request(config: HttpConfig, ctx: CheckContext, timeoutMs: number): Promise<Answer> {
  const method = config.method ?? "GET";
  return withDeadline(
    ctx,
    async (signal) => {
      const started = performance.now();
      const init = {
        method,
        headers: { "User-Agent": "vigil-check", ...config.headers },
        signal,
        ...(config.ignoreTlsErrors ? { tls: { rejectUnauthorized: false } } : {}),
      } as RequestInit;
      const res = await ctx.fetch(config.url, init);
      const body = method === "HEAD" ? { text: "", bytes: 0, truncated: false } : await readCapped(res, MAX_BODY_BYTES);
      return {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
        body: body.text,
        bytes: body.bytes,
        truncated: body.truncated,
        finalUrl: res.url || config.url,
        latencyMs: performance.now() - started,
      };
    },
    timeoutMs,
  );
}

/** Checks the host against the outbound policy (as fetch did), then reads its certificate. */
async function certificate(url: URL, ctx: CheckContext, timeoutMs: number): Promise<CertificateFacts> {
  return withDeadline(
    ctx,
    async (signal) => {
      await ctx.checkHost(url.hostname);
      return peerCertificate(url.hostname, Number(url.port || 443), signal);
    },
    timeoutMs,
  );
}

/** What the body says against keyword and jsonPath: null when it passes, else why not. */
export function bodyProblem(config: HttpConfig, body: string, truncated: boolean): string | null {
  const partial = truncated ? ` (first ${MAX_BODY_BYTES} bytes read)` : "";
  if (config.keyword !== undefined && !body.includes(config.keyword))
    return `keyword ${JSON.stringify(config.keyword)} not in the body${partial}`;
  if (config.jsonPath === undefined) return null;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return `the body is not JSON${partial}, so ${config.jsonPath} cannot be read`;
  }
  const at = valueAt(json, config.jsonPath);
  if (!at.found) return `${config.jsonPath} is not in the JSON body`;
  if (config.jsonEquals !== undefined && !jsonValueMatches(at.value, config.jsonEquals))
    return `${config.jsonPath} is ${JSON.stringify(at.value)}, expected ${JSON.stringify(config.jsonEquals)}`;
  return null;
}

async function runHttp(config: HttpConfig, ctx: CheckContext): Promise<CheckOutcome> {
  const method = config.method ?? "GET";
  const url = new URL(config.url);
  const where = `${method} ${shownUrl(url)}`;
  const details: Record<string, unknown> = { url: shownUrl(url), method };
  if (method === "HEAD" && (config.keyword !== undefined || config.jsonPath !== undefined))
    return down(`${where}: keyword and jsonPath read the body, which HEAD does not get; use GET`, details);

  const started = performance.now();
  let answer: Answer;
  try {
    answer = await request(config, ctx, ctx.timeoutMs);
  } catch (err) {
    return failure(where, err, details);
  }
  const latencyMs = roundMs(answer.latencyMs);
  Object.assign(details, {
    status: answer.status,
    bytes: answer.bytes,
    contentType: answer.headers.get("content-type"),
    ...(answer.truncated ? { truncated: true } : {}),
    ...(answer.finalUrl !== config.url ? { finalUrl: shownUrl(answer.finalUrl) } : {}),
  });
  const statusLine = `HTTP ${answer.status}${answer.statusText ? ` ${answer.statusText}` : ""}`;
  const expected = config.expectStatus ?? DEFAULT_EXPECT_STATUS;
  if (!statusMatches(expected, answer.status)) return down(`${where}: ${statusLine}, expected ${expected}`, details, latencyMs);
  const problem = bodyProblem(config, answer.body, answer.truncated);
  if (problem) return down(`${where}: ${problem}`, details, latencyMs);

  const byLatency = answered(latencyMs, ctx, `${statusLine} in ${Math.round(latencyMs)} ms`, details);
  const warnDays = config.tlsWarnDays ?? DEFAULT_TLS_WARN_DAYS;
  // The certificate that counts is the one of the server that answered, after any redirects.
  const answeredBy = new URL(answer.finalUrl);
  if (answeredBy.protocol !== "https:" || warnDays === 0) return byLatency;

  // The certificate gets what is left of the timeout, at least a second of it.
  const left = Math.max(1_000, ctx.timeoutMs - (performance.now() - started));
  let cert: CertificateFacts;
  try {
    cert = await certificate(answeredBy, ctx, left);
  } catch (err) {
    // The endpoint answered; only the expiry is unknown.
    return { ...byLatency, status: "degraded", message: `${byLatency.message}; certificate unreadable: ${errorText(err)}` };
  }
  const days = daysLeft(cert.expiresAt, ctx.now());
  details.tls = {
    daysLeft: days,
    validTo: new Date(cert.expiresAt).toISOString(),
    subject: cert.subject,
    issuer: cert.issuer,
    verified: cert.authorized,
    ...(cert.authorizationError ? { verifyError: cert.authorizationError } : {}),
  };
  if (days < 0) return down(`${where}: certificate expired ${-days} day${days === -1 ? "" : "s"} ago`, details, latencyMs);
  if (days < warnDays) {
    return {
      status: worst(byLatency.status, "degraded"),
      latencyMs,
      message: `${byLatency.message}; certificate expires in ${days} day${days === 1 ? "" : "s"}`,
      details,
    };
  }
  return byLatency;
}

async function diagnoseHttp(config: HttpConfig, ctx: CheckContext, lines: string[]): Promise<void> {
  const url = new URL(config.url);
  lines.push(`request: ${config.method ?? "GET"} ${shownUrl(url)}`);
  try {
    await ctx.checkHost(url.hostname);
    lines.push(`${url.hostname} resolves to ${(await resolvedAddresses(url.hostname)).join(", ")} (allowed by the outbound policy)`);
  } catch (err) {
    lines.push(`${url.hostname}: ${errorText(err)}`);
    return;
  }
  const started = performance.now();
  try {
    const a = await request(config, ctx, ctx.timeoutMs);
    lines.push(
      `answer: HTTP ${a.status} ${a.statusText} in ${Math.round(a.latencyMs)} ms, ${a.bytes} bytes${a.truncated ? " (truncated)" : ""}`,
    );
    if (a.finalUrl !== config.url) lines.push(`after redirects: ${shownUrl(a.finalUrl)}`);
    a.headers.forEach((value, name) => {
      lines.push(`header ${name}: ${name === "set-cookie" ? "(hidden)" : value}`);
    });
  } catch (err) {
    lines.push(`no answer after ${since(started)} ms: ${errorText(err)}`);
  }
  if (url.protocol === "https:") {
    try {
      const c = await certificate(url, ctx, ctx.timeoutMs);
      lines.push(`certificate subject: ${c.subject}`);
      lines.push(`certificate issuer: ${c.issuer}`);
      if (c.altNames) lines.push(`certificate names: ${c.altNames}`);
      lines.push(`certificate valid ${c.validFrom} to ${c.validTo} (${daysLeft(c.expiresAt, ctx.now())} days left)`);
      lines.push(c.authorized ? "certificate verifies" : `certificate does not verify: ${c.authorizationError ?? "unknown reason"}`);
    } catch (err) {
      lines.push(`certificate: ${errorText(err)}`);
    }
  }
  const outcome = await runHttp(config, ctx).catch((err: unknown) => failure("check", err));
  lines.push(`result: ${outcome.status}: ${outcome.message}`);
}

export const http: Checker<typeof httpSchema> = {
  kind: "http",
  label: "HTTP(S) endpoint",
  schema: httpSchema,
  needsWorker: false,
  run: (config, ctx) => neverThrows(`${config.method ?? "GET"} ${shownUrl(config.url)}`, () => runHttp(config, ctx)),
  diagnose: (config, ctx) => diagnoseLines((lines) => diagnoseHttp(config, ctx, lines)),
};

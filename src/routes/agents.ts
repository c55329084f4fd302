// The agents' endpoints: enrollment, the WebSocket that carries samples up and commands down, and POST /api/v1/ingest.
import { Elysia } from "elysia";
import { eq, sql } from "drizzle-orm";
import { workers } from "../db/schema/index.ts";
import { agentStillValid, enroll, EnrollmentRefused } from "../fleet/enrollment.ts";
import { recordRestartStatus } from "../fleet/restarts.ts";
import type { HeadContext } from "../head/context.ts";
import { probeRouterOf } from "../health/probes.ts";
import { ingestBatch, type BatchOutcome } from "../ingest/batch.ts";
import type { AgentConnection } from "../ingest/sessions.ts";
import { log } from "../log.ts";
import {
  MAX_BATCH_SAMPLES,
  MAX_MESSAGE_BYTES,
  parseAgentMessage,
  type HeadMessage,
  type RestartStatusMessage,
} from "../protocol/messages.ts";
import { guard } from "./guard.ts";
import { doc, EXAMPLE_SAMPLE } from "./openapi.ts";
import { binaryInfo } from "./install.ts";
import { isNewer } from "../../agent/update.ts";
import { unitNameProblem } from "../../agent/restart/allowlist.ts";
import { VERSION } from "../version.ts";

const agentLog = log.child({ component: "agents" });

function outcomeMessages(o: BatchOutcome): HeadMessage[] {
  const out: HeadMessage[] = [];
  if (o.acked.length) out.push({ type: "ack", seqs: o.acked });
  for (const r of o.rejected) out.push({ type: "reject", seqs: r.seqs, error: r.error });
  if (o.busy) out.push({ type: "busy", seqs: o.busy.seqs, retryAfterMs: o.busy.retryAfterMs });
  return out;
}

export function agentRoutes(ctx: HeadContext) {
  const db = ctx.database.db;

  /** An agent older than this head is told where to get the head's binary (compiled heads only). */
  const announceUpdate = async (conn: AgentConnection) => {
    if (!conn.version || !isNewer(VERSION, conn.version)) return;
    const info = await binaryInfo().catch(() => null);
    if (!info) return;
    conn.send({ type: "update", version: VERSION, path: "/download/vigil-linux-x64", sha256: info.sha256 });
    agentLog.info("told an older agent to update", { worker: conn.name, from: conn.version, to: VERSION });
  };
  const connections = new WeakMap<object, AgentConnection>();

  return new Elysia({ name: "agents" })
    .use(guard(ctx))
    .post(
      "/api/v1/agent/enroll",
      async ({ body, client, set }) => {
        const b = (body ?? {}) as Record<string, unknown>;
        const str = (k: string) => (typeof b[k] === "string" ? (b[k] as string) : null);
        try {
          return await enroll(db, b.token, {
            hostname: str("hostname"),
            machineId: str("machineId"),
            version: str("version"),
            ip: client.ip,
          });
        } catch (err) {
          if (!(err instanceof EnrollmentRefused)) throw err;
          set.status = 403;
          return { error: err.message };
        }
      },
      {
        access: "public",
        detail: doc({
          tag: "Agents",
          summary: "Enroll an agent: trade a one-time enrollment token for the agent's own secret",
          description:
            "Called once by `vigil agent` (the install line does it). The enrollment token is consumed; the secret in the answer " +
            "is shown only here, and the agent sends it as `Authorization: Bearer` from then on.",
          body: {
            schema: {
              type: "object",
              required: ["token"],
              properties: {
                token: { type: "string", description: "The enrollment token (vge_…) from POST /api/v1/workers or `vigil worker add`" },
                hostname: { type: "string" },
                machineId: { type: "string", description: "/etc/machine-id, to tell machines apart in the audit log" },
                version: { type: "string", description: "The agent's version" },
              },
            },
            example: {
              token: "vge_FBquxpD_J4E-zRpeSJUki3uVuqSqOro2nnZVnyxoOEk",
              hostname: "gpu-07",
              machineId: "4c4c4544004d3510",
              version: "0.1.0",
            },
          },
          response: {
            description: "Enrolled: the agent's secret",
            example: { workerId: 7, name: "gpu-07", secret: "vga_kq3J9lH2sV0e8W6xYb1NcR4tZp7uMa5dFg0hQiLoE2s" },
          },
          errors: { 403: "enrollment token unknown, already used or expired; run `vigil worker rotate NAME` on the head for a new one" },
        }),
      },
    )
    .post(
      "/api/v1/ingest",
      async ({ request, principal, set }) => {
        if (principal?.kind !== "agent") throw new Error("unreachable: access agent");
        const length = Number(request.headers.get("content-length") ?? "0");
        if (length > MAX_MESSAGE_BYTES) {
          set.status = 413;
          return { error: `batch too large: ${length} bytes; at most ${MAX_MESSAGE_BYTES}` };
        }
        let body: unknown;
        try {
          body = JSON.parse(await request.text());
        } catch {
          set.status = 400;
          return { error: 'body is not JSON; send {"samples": [...]}' };
        }
        const samples = (body as { samples?: unknown })?.samples;
        if (!Array.isArray(samples) || samples.length === 0 || samples.length > MAX_BATCH_SAMPLES) {
          set.status = 400;
          return { error: `send {"samples": [...]} with 1 to ${MAX_BATCH_SAMPLES} samples` };
        }
        const outcome = await ingestBatch(ctx.ingestor, ctx.writer, { id: principal.workerId, name: principal.name }, samples);
        if (outcome.busy && outcome.acked.length === 0) {
          set.status = 429;
          set.headers["retry-after"] = String(Math.ceil(outcome.busy.retryAfterMs / 1000));
        } else if (outcome.rejected.length && outcome.acked.length === 0 && !outcome.busy) {
          set.status = 400;
        }
        return outcome;
      },
      {
        access: "agent",
        parse: "none",
        detail: doc({
          tag: "Agents",
          summary: "Push a batch of samples over plain HTTP (for scripts; agents use the WebSocket)",
          description:
            `Each sample is validated on its own: the answer acks the sequence numbers stored and rejects the others with a reason. ` +
            `At most ${MAX_BATCH_SAMPLES} samples and ${MAX_MESSAGE_BYTES / 1024 / 1024} MiB per batch. When the head's writer is ` +
            "full it answers `busy` (429 with Retry-After when nothing was taken): send those samples again later.",
          body: {
            schema: { type: "object", required: ["samples"], properties: { samples: { type: "array", items: { type: "object" } } } },
            example: { samples: [EXAMPLE_SAMPLE] },
          },
          response: { description: "Which samples were stored (acked) and which were refused", example: { acked: [812], rejected: [] } },
          errors: {
            400: {
              description: "no sample was valid",
              example: { acked: [], rejected: [{ seqs: [813], error: "/ts: Expected required property" }] },
            },
            413: `batch too large: 9437184 bytes; at most ${MAX_MESSAGE_BYTES}`,
            429: {
              description: "the head is busy; retry after the Retry-After seconds",
              example: { acked: [], rejected: [], busy: { seqs: [812], retryAfterMs: 2000 } },
            },
          },
        }),
      },
    )
    .ws("/api/v1/agent/ws", {
      access: "agent",
      detail: doc({
        tag: "Agents",
        summary: "The agent's WebSocket: samples up, acks and commands down",
        description:
          "`vigil agent` opens it with its secret and the headers X-Vigil-Version and X-Vigil-Interval (seconds between samples). " +
          'It sends `{"type":"batch","samples":[…]}`, `{"type":"restart-status",…}` and `{"type":"probe-result",…}`; the head answers each batch with ' +
          "`ack`, `reject` or `busy` messages (by sequence number, after the samples are committed) and sends `restart` commands, " +
          "`probe` requests (checks run on the worker's side) and `update` notices. A revoked or rotated secret closes the socket with code 4001.",
        response: {
          status: 101,
          description: "Switching Protocols: the WebSocket is open; the example is a message from the head",
          example: { type: "ack", seqs: [812, 813] },
        },
      }),
      open(ws) {
        const data = ws.data as { principal: { kind: string; workerId: number; name: string }; request: Request };
        const version = data.request.headers.get("x-vigil-version");
        const conn: AgentConnection = {
          workerId: data.principal.workerId,
          name: data.principal.name,
          version,
          connectedAt: new Date(),
          send: (m) => ws.send(JSON.stringify(m)),
          close: (code, reason) => ws.close(code, reason),
        };
        connections.set(ws.raw, conn);
        ctx.sessions.add(conn);
        agentLog.info("agent connected", { worker: conn.name, version });
        // The agent says how often it samples: that decides when it counts as stale or offline.
        const interval = Number(data.request.headers.get("x-vigil-interval"));
        const intervalSeconds = Number.isFinite(interval) && interval > 0 ? Math.min(3600, Math.max(1, Math.ceil(interval))) : undefined;
        // The units its allow-list permits, for people choosing what to restart; names an agent could not restart are dropped.
        const allowHeader = data.request.headers.get("x-vigil-restart-allow");
        const restartAllow =
          allowHeader === null
            ? undefined
            : allowHeader
                .split(",")
                .map((u) => u.trim())
                .filter((u) => u && !unitNameProblem(u))
                .slice(0, 256);
        void db
          .update(workers)
          .set({
            agentVersion: version?.slice(0, 64) ?? null,
            ...(intervalSeconds ? { intervalSeconds } : {}),
            ...(restartAllow ? { info: sql`${workers.info} || ${JSON.stringify({ restartAllow })}::jsonb` } : {}),
          })
          .where(eq(workers.id, conn.workerId))
          .catch((err: unknown) => agentLog.warn("could not record the agent's version", { error: err }));
        void announceUpdate(conn);
      },
      async message(ws, raw) {
        const conn = connections.get(ws.raw);
        const data = ws.data as { principal: { secret: string } };
        if (!conn) return;
        // Checked on every message, so a revoked or rotated credential is cut off at once.
        if (!(await agentStillValid(db, conn.workerId, data.principal.secret))) {
          agentLog.warn("agent credential no longer valid; closing", { worker: conn.name });
          ws.close(4001, "credential revoked or rotated");
          return;
        }
        const value = typeof raw === "string" ? safeJson(raw) : raw;
        const parsed = parseAgentMessage(value);
        if (!parsed.ok) {
          // A probe answer the head cannot read still settles its probe, with the reason, rather than letting it time out.
          const v = value as { type?: unknown; id?: unknown } | null;
          if (v?.type === "probe-result" && typeof v.id === "string")
            probeRouterOf(ctx.sessions)?.resolve(conn.workerId, {
              id: v.id,
              ok: false,
              result: {},
              error: `the agent's answer is malformed: ${parsed.error}`,
            });
          conn.send({ type: "reject", seqs: [], error: `malformed message: ${parsed.error}` });
          agentLog.warn("malformed agent message", { worker: conn.name, error: parsed.error });
          return;
        }
        const m = parsed.message;
        if (m.type === "batch") {
          const outcome = await ingestBatch(ctx.ingestor, ctx.writer, { id: conn.workerId, name: conn.name }, m.samples);
          for (const reply of outcomeMessages(outcome)) conn.send(reply);
          if (outcome.rejected.length)
            agentLog.warn("samples rejected", {
              worker: conn.name,
              rejected: outcome.rejected.map((r) => ({ n: r.seqs.length, error: r.error })),
            });
        } else if (m.type === "probe-result") {
          if (!probeRouterOf(ctx.sessions)?.resolve(conn.workerId, m))
            agentLog.warn("probe result for no probe in flight (late, or not this worker's)", { worker: conn.name, id: m.id });
        } else if (!(await recordRestartStatus(db, conn.workerId, m))) {
          agentLog.warn("restart status for an unknown restart", { worker: conn.name, id: m.id });
        }
      },
      close(ws) {
        const conn = connections.get(ws.raw);
        if (!conn) return;
        ctx.sessions.remove(conn);
        connections.delete(ws.raw);
        agentLog.info("agent disconnected", { worker: conn.name });
      },
    });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

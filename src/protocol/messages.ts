// Messages between agent and head on the WebSocket /api/v1/agent/ws (and the batch body of POST /api/v1/ingest).
import { Type as T, type Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

/** Most samples in one batch; an agent replaying a backlog sends several batches. */
export const MAX_BATCH_SAMPLES = 500;
/** Largest message the head reads (a batch of 500 samples of 8 GPUs is about 1.5 MB). */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** The states a restart passes through, each timestamped in the restart log. */
export const RESTART_STATES = ["initiated", "refused", "waiting", "stopping", "restarting", "completed", "failed"] as const;
export type RestartState = (typeof RESTART_STATES)[number];

// ---- agent -> head ----

export const BatchMessage = T.Object({
  type: T.Literal("batch"),
  /** Each sample is checked on its own (checkSample), so one malformed sample rejects only itself. */
  samples: T.Array(T.Unknown(), { minItems: 1, maxItems: MAX_BATCH_SAMPLES }),
});

export const RestartStatusMessage = T.Object({
  type: T.Literal("restart-status"),
  /** The id the head gave in its restart command. */
  id: T.Integer({ minimum: 1 }),
  state: T.Union(RESTART_STATES.map((s) => T.Literal(s))),
  /** One line for people: "waiting for 2 GPU processes", the systemctl error, why it was refused. */
  message: T.Optional(T.String({ maxLength: 2000 })),
  at: T.String({ maxLength: 40 }),
});

export const AgentMessage = T.Union([BatchMessage, RestartStatusMessage]);

// ---- head -> agent ----

export const AckMessage = T.Object({
  type: T.Literal("ack"),
  /** Sequence numbers now committed (or already stored): the agent may drop them from its spool. */
  seqs: T.Array(T.Integer({ minimum: 0 })),
});

export const RejectMessage = T.Object({
  type: T.Literal("reject"),
  /** Samples the head will never accept (malformed): the agent logs and drops them. */
  seqs: T.Array(T.Integer({ minimum: 0 })),
  error: T.String(),
});

export const BusyMessage = T.Object({
  type: T.Literal("busy"),
  /** The head cannot take more now (database slower than the fleet): send again after this. */
  retryAfterMs: T.Integer({ minimum: 0 }),
  seqs: T.Array(T.Integer({ minimum: 0 })),
});

export const RestartCommand = T.Object({
  type: T.Literal("restart"),
  id: T.Integer({ minimum: 1 }),
  service: T.String({ maxLength: 256 }),
  force: T.Boolean(),
  /** How long to wait for the unit's GPU processes to end before giving up (unless force). */
  waitSeconds: T.Integer({ minimum: 0 }),
});

export const UpdateNotice = T.Object({
  type: T.Literal("update"),
  version: T.String({ maxLength: 64 }),
  /** Path on the head, e.g. /download/vigil-linux-x64 */
  path: T.String({ maxLength: 256 }),
  sha256: T.String({ pattern: "^[0-9a-f]{64}$" }),
});

export const HeadMessage = T.Union([AckMessage, RejectMessage, BusyMessage, RestartCommand, UpdateNotice]);

export type BatchMessage = Static<typeof BatchMessage>;
export type RestartStatusMessage = Static<typeof RestartStatusMessage>;
export type AgentMessage = Static<typeof AgentMessage>;
export type AckMessage = Static<typeof AckMessage>;
export type RestartCommand = Static<typeof RestartCommand>;
export type UpdateNotice = Static<typeof UpdateNotice>;
export type HeadMessage = Static<typeof HeadMessage>;

const agentMessage = TypeCompiler.Compile(AgentMessage);
const headMessage = TypeCompiler.Compile(HeadMessage);

export function parseAgentMessage(value: unknown): { ok: true; message: AgentMessage } | { ok: false; error: string } {
  if (agentMessage.Check(value)) return { ok: true, message: value };
  const e = agentMessage.Errors(value).First();
  return { ok: false, error: e ? `${e.path || "/"}: ${e.message}` : "not an agent message" };
}

export function parseHeadMessage(value: unknown): { ok: true; message: HeadMessage } | { ok: false; error: string } {
  if (headMessage.Check(value)) return { ok: true, message: value };
  const e = headMessage.Errors(value).First();
  return { ok: false, error: e ? `${e.path || "/"}: ${e.message}` : "not a head message" };
}

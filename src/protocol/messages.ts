// Messages between agent and head on the WebSocket /api/v1/agent/ws (and the batch body of POST /api/v1/ingest).
import { Type as T, type Static, type TObject } from "@sinclair/typebox";
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

/** The agent's answer to a probe command: what it found (by probe kind, see PROBE_RESULTS), or why it could not look. */
export const ProbeResultMessage = T.Object({
  type: T.Literal("probe-result"),
  /** The id the head gave in its probe command. */
  id: T.String({ minLength: 1, maxLength: 64 }),
  /** False when the probe could not run or reach what it was asked about (refused, timed out, connection refused). */
  ok: T.Boolean(),
  /** Checked against the asked kind's schema by the head's probe router, which knows the kind; {} when not ok. */
  result: T.Record(T.String({ maxLength: 64 }), T.Unknown(), { maxProperties: 32 }),
  /** One line for people: "connection refused", "path /etc/shadow is not under VIGIL_PROBE_PATHS (/srv/models)". */
  error: T.Optional(T.String({ maxLength: 2000 })),
});

export const AgentMessage = T.Union([BatchMessage, RestartStatusMessage, ProbeResultMessage]);

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

// ---- probes: checks the head asks an agent to run on its own worker (its units, its localhost, its disks) ----

/** Longest a probe may be given, for the whole probe and for an HTTP or TCP probe's own timeout. */
export const MAX_PROBE_TIMEOUT_MS = 120_000;
/** Most paths one files probe checks. */
export const MAX_PROBE_FILES = 64;
/** A log answer holds at most this many lines, each at most MAX_LOG_LINE_CHARS long (longer ones are cut). */
export const MAX_LOG_LINES = 100;
export const MAX_LOG_LINE_CHARS = 2000;

const ProbeTimeout = T.Number({ exclusiveMinimum: 0, maximum: MAX_PROBE_TIMEOUT_MS });
const ProbePath = T.String({ minLength: 1, maxLength: 4096 });
const UnitName = T.String({ minLength: 1, maxLength: 256 });

/** One schema per probe kind; the union of them is the `probe` of a probe command (WorkerProbe in src/checks/checker.ts). */
export const PROBES = {
  unit: T.Object({ kind: T.Literal("unit"), unit: UnitName }),
  http: T.Object({ kind: T.Literal("http"), url: T.String({ minLength: 1, maxLength: 2048 }), timeoutMs: ProbeTimeout }),
  tcp: T.Object({
    kind: T.Literal("tcp"),
    host: T.String({ minLength: 1, maxLength: 253 }),
    port: T.Integer({ minimum: 1, maximum: 65535 }),
    timeoutMs: ProbeTimeout,
  }),
  filesystem: T.Object({ kind: T.Literal("filesystem"), path: ProbePath, writeTest: T.Boolean() }),
  files: T.Object({ kind: T.Literal("files"), paths: T.Array(ProbePath, { minItems: 1, maxItems: MAX_PROBE_FILES }) }),
  /** Exactly one of unit and path; the agent says so when both or neither are given. */
  log: T.Object({
    kind: T.Literal("log"),
    unit: T.Optional(UnitName),
    path: T.Optional(ProbePath),
    lines: T.Integer({ minimum: 1, maximum: MAX_LOG_LINES }),
  }),
};
export type ProbeKind = keyof typeof PROBES;
export const PROBE_KINDS = Object.keys(PROBES) as ProbeKind[];
export const WorkerProbeSpec = T.Union(Object.values(PROBES));

export const ProbeCommand = T.Object({
  type: T.Literal("probe"),
  /** Unique per probe; the agent's probe-result carries it back. */
  id: T.String({ minLength: 1, maxLength: 64 }),
  probe: WorkerProbeSpec,
  /** How long the whole probe may take on the worker; the agent answers with an error when it runs out. */
  timeoutMs: ProbeTimeout,
});

const Short = T.String({ maxLength: 64 });
const Line = T.String({ maxLength: 2000 });
const Count = T.Integer({ minimum: 0 });

/** What a probe of each kind found: the `result` of an ok probe-result. Fields may be added later, so extra ones are allowed. */
export const PROBE_RESULTS = {
  unit: T.Object({
    unit: UnitName,
    loadState: Short,
    activeState: Short,
    subState: Short,
    unitFileState: Short,
    /** When the unit last became active, as systemctl prints it ("Mon 2026-11-23 10:00:01 UTC"); null when never. */
    activeEnterTimestamp: T.Union([T.String({ maxLength: 128 }), T.Null()]),
    /** The same instant as ISO 8601, when systemctl printed it in UTC (the agent runs systemctl with TZ=UTC). */
    activeSince: T.Union([T.String({ maxLength: 40 }), T.Null()]),
  }),
  http: T.Object({
    url: T.String({ maxLength: 2048 }),
    status: T.Integer({ minimum: 100, maximum: 999 }),
    statusText: T.String({ maxLength: 200 }),
    /** Until the response headers arrived; the body is never read. */
    latencyMs: T.Number({ minimum: 0 }),
    /** A redirect's target: redirects are reported, not followed. */
    location: T.Optional(T.String({ maxLength: 2048 })),
  }),
  tcp: T.Object({ host: T.String({ maxLength: 253 }), port: T.Integer(), latencyMs: T.Number({ minimum: 0 }) }),
  filesystem: T.Object({
    path: ProbePath,
    /**
     * Bytes, counted as the samples count disks (agent/collectors/host/disks.ts): total = used + free,
     * free being what non-root users may still write.
     */
    used: Count,
    total: Count,
    free: Count,
    inodesUsed: T.Union([Count, T.Null()]),
    inodesTotal: T.Union([Count, T.Null()]),
    /** Whether a small file could be created, synced and deleted there; null when no write test was asked. */
    writable: T.Union([T.Boolean(), T.Null()]),
    writeError: T.Optional(Line),
  }),
  files: T.Object({
    files: T.Array(
      T.Object({
        path: ProbePath,
        exists: T.Boolean(),
        type: T.Union([T.Literal("file"), T.Literal("directory"), T.Literal("other"), T.Null()]),
        size: T.Union([Count, T.Null()]),
        /** ISO 8601 */
        mtime: T.Union([T.String({ maxLength: 40 }), T.Null()]),
      }),
      { maxItems: MAX_PROBE_FILES },
    ),
  }),
  log: T.Object({
    /** The unit or the file the lines came from. */
    source: T.String({ maxLength: 4096 }),
    lines: T.Array(T.String({ maxLength: MAX_LOG_LINE_CHARS }), { maxItems: MAX_LOG_LINES }),
    /** What the tool said besides the lines, such as journalctl's hint that the agent may not read other users' messages. */
    note: T.Optional(Line),
  }),
} satisfies Record<ProbeKind, TObject>;

export const HeadMessage = T.Union([AckMessage, RejectMessage, BusyMessage, RestartCommand, UpdateNotice, ProbeCommand]);

export type BatchMessage = Static<typeof BatchMessage>;
export type RestartStatusMessage = Static<typeof RestartStatusMessage>;
export type AgentMessage = Static<typeof AgentMessage>;
export type AckMessage = Static<typeof AckMessage>;
export type RestartCommand = Static<typeof RestartCommand>;
export type UpdateNotice = Static<typeof UpdateNotice>;
export type HeadMessage = Static<typeof HeadMessage>;
export type ProbeCommand = Static<typeof ProbeCommand>;
export type ProbeResultMessage = Static<typeof ProbeResultMessage>;
export type WorkerProbeSpec = Static<typeof WorkerProbeSpec>;
/** A probe-result without its envelope: what running a probe gives (WorkerProbeAnswer in src/checks/checker.ts). */
export type ProbeAnswer = Omit<ProbeResultMessage, "type" | "id">;
export type ProbeResult<K extends ProbeKind> = Static<(typeof PROBE_RESULTS)[K]>;

const agentMessage = TypeCompiler.Compile(AgentMessage);
const headMessage = TypeCompiler.Compile(HeadMessage);

/** Each message of a union by its `type`, so an error names the field at fault rather than "Expected union value". */
function byType(members: TObject[]): Map<unknown, ReturnType<typeof TypeCompiler.Compile>> {
  return new Map(members.map((m) => [(m.properties.type as { const?: unknown }).const, TypeCompiler.Compile(m)]));
}
const agentMembers = byType([BatchMessage, RestartStatusMessage, ProbeResultMessage]);
const headMembers = byType([AckMessage, RejectMessage, BusyMessage, RestartCommand, UpdateNotice, ProbeCommand]);

function messageError(union: ReturnType<typeof TypeCompiler.Compile>, members: typeof agentMembers, value: unknown): string | null {
  const member = members.get((value as { type?: unknown } | null)?.type);
  const e = (member ?? union).Errors(value).First();
  return e ? `${e.path || "/"}: ${e.message}` : null;
}

export function parseAgentMessage(value: unknown): { ok: true; message: AgentMessage } | { ok: false; error: string } {
  if (agentMessage.Check(value)) return { ok: true, message: value };
  return { ok: false, error: messageError(agentMessage, agentMembers, value) ?? "not an agent message" };
}

export function parseHeadMessage(value: unknown): { ok: true; message: HeadMessage } | { ok: false; error: string } {
  if (headMessage.Check(value)) return { ok: true, message: value };
  return { ok: false, error: messageError(headMessage, headMembers, value) ?? "not a head message" };
}

type Check = ReturnType<typeof TypeCompiler.Compile>;
const compileEach = (schemas: Record<ProbeKind, TObject>) =>
  Object.fromEntries(PROBE_KINDS.map((k) => [k, TypeCompiler.Compile(schemas[k])])) as unknown as Record<ProbeKind, Check>;
const probeChecks = compileEach(PROBES);
const resultChecks = compileEach(PROBE_RESULTS);

function firstError(check: Check, value: unknown): string | null {
  if (check.Check(value)) return null;
  const e = check.Errors(value).First();
  return e ? `${e.path || "/"}: ${e.message}` : "invalid";
}

/**
 * Why `value` is not a probe this protocol knows, or null. Checked against its own kind's schema, so
 * the message names the field ("/lines: Expected integer to be less or equal to 100") where the
 * union's would only say "Expected union value".
 */
export function probeProblem(value: unknown): string | null {
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (typeof kind !== "string" || !(PROBE_KINDS as string[]).includes(kind))
    return `unknown probe kind ${JSON.stringify(kind)} (one of ${PROBE_KINDS.join(", ")})`;
  return firstError(probeChecks[kind as ProbeKind], value);
}

/** Why an ok answer's `result` does not fit the probe kind asked, or null. */
export function probeResultProblem(kind: ProbeKind, result: unknown): string | null {
  return firstError(resultChecks[kind], result);
}

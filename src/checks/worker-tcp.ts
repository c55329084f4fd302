// The worker-side TCP check: the worker's agent connects to a port only the worker can reach (its localhost, a private network), judged as the tcp check.
import { Type, type Static } from "@sinclair/typebox";
import type { Checker, CheckContext, CheckOutcome } from "./checker.ts";
import { answered, needsWorkerId, neverThrows } from "./outcome.ts";
import { askAgent, isOutcome, probeTimeoutMs } from "./probe.ts";
import { hostPort } from "./tcp.ts";

export const workerTcpSchema = Type.Object(
  {
    host: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: "^[^\\s/]+$",
        default: "127.0.0.1",
        description: "The host as the worker sees it; default 127.0.0.1 (a service bound to the worker's loopback).",
        examples: ["127.0.0.1"],
      }),
    ),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: "The TCP port on that host.", examples: [8188] }),
  },
  { additionalProperties: false },
);

export type WorkerTcpConfig = Static<typeof workerTcpSchema>;

async function runWorkerTcp(config: WorkerTcpConfig, ctx: CheckContext): Promise<CheckOutcome> {
  const host = config.host ?? "127.0.0.1";
  const where = `TCP ${hostPort(host, config.port)} on the worker`;
  const workerId = needsWorkerId(ctx, where);
  if (typeof workerId !== "number") return workerId;
  const details: Record<string, unknown> = { host, port: config.port, workerId };
  const reply = await askAgent(ctx, workerId, { kind: "tcp", host, port: config.port, timeoutMs: probeTimeoutMs(ctx) }, where, details);
  if (isOutcome(reply)) return reply;
  const { latencyMs } = reply.answer.result as { latencyMs?: unknown };
  // The agent's own measure is the service's latency; the round trip also counts the link to the head.
  const latency = typeof latencyMs === "number" ? latencyMs : reply.roundTripMs;
  return answered(latency, ctx, `connected in ${Math.round(latency)} ms (from the worker)`, { ...details, ...reply.answer.result });
}

export const workerTcp: Checker<typeof workerTcpSchema> = {
  kind: "worker-tcp",
  label: "TCP port, from the worker",
  schema: workerTcpSchema,
  needsWorker: true,
  run: (config, ctx) =>
    neverThrows(`TCP ${hostPort(config.host ?? "127.0.0.1", config.port)} on the worker`, () => runWorkerTcp(config, ctx)),
};

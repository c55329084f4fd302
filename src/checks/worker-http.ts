// The worker-side HTTP check: the worker's agent requests a URL only the worker can reach (ComfyUI on 127.0.0.1:8188), judged on status and latency.
import { Type, type Static } from "@sinclair/typebox";
import type { Checker, CheckContext, CheckOutcome } from "./checker.ts";
import { DEFAULT_EXPECT_STATUS, httpSchema, shownUrl, statusMatches } from "./http.ts";
import { answered, down, needsWorkerId, neverThrows, roundMs } from "./outcome.ts";
import { askAgent, isOutcome, probeTimeoutMs } from "./probe.ts";

export const workerHttpSchema = Type.Object(
  {
    url: Type.String({
      pattern: "^https?://",
      description: "The address as the worker sees it, e.g. a service bound to the worker's loopback.",
      examples: ["http://127.0.0.1:8188/system_stats"],
    }),
    expectStatus: httpSchema.properties.expectStatus,
  },
  { additionalProperties: false },
);

export type WorkerHttpConfig = Static<typeof workerHttpSchema>;

async function runWorkerHttp(config: WorkerHttpConfig, ctx: CheckContext): Promise<CheckOutcome> {
  const where = `GET ${shownUrl(config.url)} on the worker`;
  const workerId = needsWorkerId(ctx, where);
  if (typeof workerId !== "number") return workerId;
  const details: Record<string, unknown> = { url: shownUrl(config.url), workerId };
  const reply = await askAgent(ctx, workerId, { kind: "http", url: config.url, timeoutMs: probeTimeoutMs(ctx) }, where, details);
  if (isOutcome(reply)) return reply;
  const { status, latencyMs } = reply.answer.result as { status?: unknown; latencyMs?: unknown };
  Object.assign(details, reply.answer.result);
  if (typeof status !== "number") return down(`${where}: the agent's answer has no HTTP status`, details);
  const latency = typeof latencyMs === "number" ? latencyMs : reply.roundTripMs;
  const expected = config.expectStatus ?? DEFAULT_EXPECT_STATUS;
  if (!statusMatches(expected, status)) return down(`${where}: HTTP ${status}, expected ${expected}`, details, roundMs(latency));
  return answered(latency, ctx, `HTTP ${status} in ${Math.round(latency)} ms (from the worker)`, details);
}

export const workerHttp: Checker<typeof workerHttpSchema> = {
  kind: "worker-http",
  label: "HTTP endpoint, from the worker",
  schema: workerHttpSchema,
  needsWorker: true,
  run: (config, ctx) => neverThrows(`GET ${shownUrl(config.url)} on the worker`, () => runWorkerHttp(config, ctx)),
};

// The systemd unit check: the unit's active state on the worker, read by the worker's agent (active healthy, starting degraded, stopped or failed down).
import { Type, type Static } from "@sinclair/typebox";
import type { Checker, CheckContext, CheckOutcome, HealthStatus } from "./checker.ts";
import { answered, down, needsWorkerId, neverThrows } from "./outcome.ts";
import { askAgent, isOutcome } from "./probe.ts";

export const unitSchema = Type.Object(
  {
    unit: Type.String({
      minLength: 1,
      maxLength: 256,
      pattern: "^[A-Za-z0-9:_.@\\\\-]+$",
      description: 'The systemd unit on the worker; ".service" may be left out.',
      examples: ["comfyui.service", "nvidia-persistenced"],
    }),
  },
  { additionalProperties: false },
);

export type UnitConfig = Static<typeof unitSchema>;

/** systemd's ActiveState in the three states: on its way up or reloading is degraded, anything not running is down. */
export function unitHealth(activeState: string): HealthStatus {
  if (activeState === "active") return "healthy";
  if (activeState === "activating" || activeState === "reloading") return "degraded";
  return "down";
}

async function runUnit(config: UnitConfig, ctx: CheckContext): Promise<CheckOutcome> {
  const workerId = needsWorkerId(ctx, `unit ${config.unit}`);
  if (typeof workerId !== "number") return workerId;
  const where = `unit ${config.unit}`;
  const details: Record<string, unknown> = { unit: config.unit, workerId };
  const reply = await askAgent(ctx, workerId, { kind: "unit", unit: config.unit }, where, details);
  if (isOutcome(reply)) return reply;
  const { activeState, subState } = reply.answer.result as { activeState?: unknown; subState?: unknown };
  Object.assign(details, reply.answer.result);
  if (typeof activeState !== "string") return down(`${where}: the agent's answer has no activeState`, details);
  const state = `${activeState}${typeof subState === "string" && subState !== activeState ? ` (${subState})` : ""}`;
  const health = unitHealth(activeState);
  if (health === "healthy") return answered(reply.roundTripMs, ctx, `${where}: ${state}`, details);
  return { status: health, latencyMs: null, message: `${where}: ${state}`, details };
}

export const unit: Checker<typeof unitSchema> = {
  kind: "unit",
  label: "systemd unit on a worker",
  schema: unitSchema,
  needsWorker: true,
  run: (config, ctx) => neverThrows(`unit ${config.unit}`, () => runUnit(config, ctx)),
};

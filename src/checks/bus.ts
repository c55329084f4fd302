// The live bus check: publishes a harmless event and times how long the bus takes to hand it back to a listener.
import { Type, type Static } from "@sinclair/typebox";
import type { LiveEvent } from "../live/bus.ts";
import type { Checker, CheckContext, CheckOutcome } from "./checker.ts";
import { answered, failure, neverThrows, withDeadline } from "./outcome.ts";

export const busSchema = Type.Object({}, { additionalProperties: false });
export type BusConfig = Static<typeof busSchema>;

/** A ping with its own id: no live region listens to the topic, so the check costs the pages nothing. */
export function probeEvent(): LiveEvent {
  return { topic: "ping", id: crypto.randomUUID() };
}

/** The probe coming back: the same object on the in-process bus, an equal copy on a bus that serialises (LISTEN/NOTIFY). */
function isProbe(event: LiveEvent, sent: LiveEvent): boolean {
  return event === sent || (event.topic === "ping" && sent.topic === "ping" && event.id === sent.id);
}

async function runBus(ctx: CheckContext): Promise<CheckOutcome> {
  const bus = ctx.head.live.bus;
  const sent = probeEvent();
  let unsubscribe: (() => void) | undefined;
  try {
    const latencyMs = await withDeadline(ctx, () => {
      let started = 0;
      const seen = new Promise<number>((resolve) => {
        unsubscribe = bus.subscribe((event) => {
          if (isProbe(event, sent)) resolve(performance.now() - started);
        });
      });
      started = performance.now();
      bus.publish(sent);
      return seen;
    });
    const stats = (bus as { stats?: Record<string, number> }).stats;
    return answered(latencyMs, ctx, `event came back in ${latencyMs < 1 ? latencyMs.toFixed(2) : Math.round(latencyMs)} ms`, {
      topic: sent.topic,
      ...(stats ? { bus: { ...stats } } : {}),
    });
  } catch (err) {
    return failure("live bus round trip", err, { topic: sent.topic });
  } finally {
    unsubscribe?.();
  }
}

export const bus: Checker<typeof busSchema> = {
  kind: "bus",
  label: "Live event bus",
  schema: busSchema,
  needsWorker: false,
  run: (_config, ctx) => neverThrows("live bus", () => runBus(ctx)),
};

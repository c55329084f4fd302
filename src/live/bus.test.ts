// The in-process bus: every listener hears every event, a failing listener does not stop the others, unsubscribe works.
import { expect, test } from "bun:test";
import { setLogSink } from "../log.ts";
import { LocalBus, type LiveEvent } from "./bus.ts";

test("delivers to every listener, survives a throwing one, and unsubscribes", () => {
  const bus = new LocalBus();
  const heard: LiveEvent[] = [];
  const lines: string[] = [];
  const restore = setLogSink((l) => lines.push(l));
  try {
    bus.subscribe(() => {
      throw new Error("boom");
    });
    const off = bus.subscribe((e) => heard.push(e));
    bus.publish({ topic: "sample", workerId: 1 });
    off();
    bus.publish({ topic: "sample", workerId: 2 });
  } finally {
    restore();
  }
  expect(heard).toEqual([{ topic: "sample", workerId: 1 }]);
  expect(bus.stats).toEqual({ published: 2, listenerErrors: 2 });
  expect(lines[0]).toContain("live bus listener failed");
});

// For channel tests: a throwaway local HTTP server that records what it receives, and a SendContext allowed to reach it.
import type { AlertNotification } from "../../src/alerts/notification.ts";
import { checkHost, outboundFetch, outboundPolicy } from "../../src/net/outbound.ts";
import type { SendContext } from "../../src/notifiers/notifier.ts";

/** Loopback only: what the tests' servers listen on, and nothing else private. */
export const LOOPBACK_POLICY = outboundPolicy(false, ["127.0.0.0/8"]);

export function localContext(timeoutMs = 5_000): SendContext {
  return {
    fetch: (url, init) => outboundFetch(url, init, LOOPBACK_POLICY, { timeoutMs }),
    checkHost: async (host) => {
      await checkHost(host, LOOPBACK_POLICY);
    },
    timeoutMs,
  };
}

export interface Received {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

export interface CaptureServer {
  /** http://127.0.0.1:<port> */
  url: string;
  received: Received[];
  /** What the next requests get; a 200 "ok" by default. */
  respond: (req: Request) => Response | Promise<Response>;
  stop(): Promise<void>;
}

export function captureServer(): CaptureServer {
  const capture: CaptureServer = {
    url: "",
    received: [],
    respond: () => new Response("ok"),
    stop: async () => {
      await server.stop(true);
    },
  };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = await req.text();
      capture.received.push({ method: req.method, path: new URL(req.url).pathname, headers: req.headers, body });
      return capture.respond(req);
    },
  });
  capture.url = `http://127.0.0.1:${server.port}`;
  return capture;
}

/** A worker name an agent could send: markup, a mention and markdown, all of which must arrive as plain text. */
export const HOSTILE_WORKER = "<img src=x onerror=alert(1)> @everyone *gpu*_07 & <!channel>";

export function sampleNotification(over: Partial<AlertNotification> = {}): AlertNotification {
  const worker = over.alert?.worker.name ?? "gpu-07";
  return {
    id: "0b6f4d7e-1c7a-4d1c-9a55-2f0c8a1d9e01",
    event: "firing",
    severity: "critical",
    at: "2026-05-04T10:15:00.000Z",
    // As src/alerts/message.ts writes them.
    title: `CRITICAL ${worker} GPU 3: GPU temperature: 88 °C (critical at 85 °C)`,
    text: [
      `GPU temperature on ${worker} GPU 3 is firing.`,
      "Value: 88 °C, critical level 85 °C.",
      "GPU: NVIDIA H100 80GB HBM3 (GPU-5f2a3c1e-0d4b-4e8f-9a7c-1b2d3e4f5a6b).",
      "Since 2026-05-04T10:12:00.000Z.",
      "Open: https://vigil.example.com/alerts#alert-42",
    ].join("\n"),
    alert: {
      id: 42,
      rule: "threshold:temperature",
      ruleName: "GPU temperature",
      state: "firing",
      worker: { id: 7, name: worker },
      gpu: { index: 3, uuid: "GPU-5f2a3c1e-0d4b-4e8f-9a7c-1b2d3e4f5a6b", name: "NVIDIA H100 80GB HBM3" },
      value: 88,
      threshold: 85,
      unit: "°C",
      startedAt: "2026-05-04T10:12:00.000Z",
      firedAt: "2026-05-04T10:15:00.000Z",
      resolvedAt: null,
      url: "https://vigil.example.com/alerts#alert-42",
    },
    ...over,
  };
}

/** The same notification for a worker with a hostile name (title and text carry it too, as the alert engine writes them). */
export function hostileNotification(over: Partial<AlertNotification> = {}): AlertNotification {
  const base = sampleNotification();
  return sampleNotification({ alert: { ...base.alert, worker: { id: 7, name: HOSTILE_WORKER } }, ...over });
}

// One browser's SSE stream: a ReadableStream the route returns, fed shared frames, closed when the client leaves or falls behind.
import { formatSse, formatSseComment } from "./sse.ts";

const encoder = new TextEncoder();

/** Encodes once: the same bytes are queued to every subscriber of a view. */
export function encodeFrame(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * The SSE message that swaps the given regions: one `<hx-partial>` block each, morphing the element with that id into
 * the new HTML (htmx's outerMorph) rather than replacing it, so keyboard focus, a half-typed form field and an open
 * <details> survive a live update; a replaced card lost the focus of a keyboard user within a second.
 * `id` is the tick that sent it (the same for every subscriber, which lets a client tell broadcasts apart).
 */
export function partialsMessage(
  regions: readonly { id: string; html: string }[],
  opts: { retryMs?: number; id?: string } = {},
): Uint8Array {
  const data = regions.map((r) => `<hx-partial hx-target="#${r.id}" hx-swap="outerMorph">\n${r.html}\n</hx-partial>`).join("\n");
  return encodeFrame(formatSse({ id: opts.id, retry: opts.retryMs, data }));
}

export const HEARTBEAT = encodeFrame(formatSseComment("heartbeat"));

/** Response headers of an event stream; no-transform and X-Accel-Buffering keep proxies (nginx) from holding frames back. */
export const SSE_HEADERS: Record<string, string> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store, no-transform",
  "x-accel-buffering": "no",
};

let nextId = 1;

export class Subscriber {
  readonly id = nextId++;
  readonly stream: ReadableStream<Uint8Array>;
  private controller?: ReadableStreamDefaultController<Uint8Array>;
  /** Gets frames from the view's broadcasts only after its first, full frame went out. */
  welcomed = false;
  closed = false;
  /** Why it ended: "client went away", "too slow", "head stopping". */
  endReason: string | undefined;

  /**
   * `maxQueuedBytes` bounds what waits for this client: the stream counts queued bytes (the size function),
   * and a client that lets more pile up is dropped, so one stalled browser never holds the others' memory.
   * `onEnd` runs once, whoever ends the stream.
   */
  constructor(
    readonly view: string,
    private readonly maxQueuedBytes: number,
    private readonly onEnd: (sub: Subscriber) => void,
  ) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        // Called when the client disconnects (the server cancels the body) or a test cancels its reader.
        cancel: () => this.end("client went away"),
      },
      { highWaterMark: 0, size: (chunk) => chunk?.byteLength ?? 0 },
    );
  }

  /** Bytes queued and not yet taken by the socket. */
  get queuedBytes(): number {
    return Math.max(0, -(this.controller?.desiredSize ?? 0));
  }

  /** Queues the frame; false when the subscriber is gone or was just dropped for being too slow. */
  send(frame: Uint8Array): boolean {
    if (this.closed || !this.controller) return false;
    if (this.queuedBytes + frame.byteLength > this.maxQueuedBytes) {
      // error() discards the queue and aborts the response; the browser's reconnect starts afresh with a full frame.
      this.end("too slow", (c) => c.error(new Error(`SSE client too slow: over ${this.maxQueuedBytes} bytes queued`)));
      return false;
    }
    try {
      this.controller.enqueue(frame);
      return true;
    } catch {
      // Already closed underneath us (the socket went away between the cancel and our bookkeeping).
      this.end("client went away");
      return false;
    }
  }

  /** Ends the stream (idempotent); `how` closes the controller, a clean end by default. */
  end(reason: string, how: (c: ReadableStreamDefaultController<Uint8Array>) => void = (c) => c.close()): void {
    if (this.closed) return;
    this.closed = true;
    this.endReason = reason;
    try {
      if (this.controller) how(this.controller);
    } catch {
      /* already cancelled by the client: nothing left to end */
    }
    this.onEnd(this);
  }
}

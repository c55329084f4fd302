// Reads an SSE response body in the background for tests: messages queue up as they arrive, `next()` waits for one with a deadline.
import { SseParser, type ParsedSse } from "../../src/live/sse.ts";

export interface Received extends ParsedSse {
  /** performance.now() when the chunk completing it arrived. */
  at: number;
}

export class SseReader {
  readonly messages: Received[] = [];
  private taken = 0;
  private waiter: (() => void) | undefined;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Settles when the stream ends (closed, errored or cancelled). */
  readonly ended: Promise<void>;
  done = false;

  constructor(body: ReadableStream<Uint8Array>) {
    const reader = body.getReader();
    this.reader = reader;
    const parser = new SseParser();
    const decoder = new TextDecoder();
    this.ended = (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          const at = performance.now();
          for (const m of parser.push(decoder.decode(value, { stream: true }))) this.messages.push({ ...m, at });
          this.waiter?.();
        }
      } catch {
        /* cancelled or aborted: the end of the stream either way */
      } finally {
        this.done = true;
        this.waiter?.();
      }
    })();
  }

  /** The next message not yet taken, or undefined when none arrives within the time (or the stream ended). */
  async next(timeoutMs = 5000): Promise<Received | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (this.taken >= this.messages.length) {
      if (this.done) return undefined;
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.messages[this.taken++];
  }

  /** Messages that arrived and were not taken yet, taken now. */
  drain(): Received[] {
    const out = this.messages.slice(this.taken);
    this.taken = this.messages.length;
    return out;
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
    await this.ended;
  }
}

/** The regions a message swaps: DOM id -> the HTML between its <hx-partial> tags. */
export function partialsOf(data: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of data.matchAll(/<hx-partial hx-target="#([\w-]+)" hx-swap="outerMorph">\n([\s\S]*?)\n<\/hx-partial>/g))
    out.set(m[1]!, m[2]!);
  return out;
}

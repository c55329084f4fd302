// Server-Sent Events framing: one message as text/event-stream lines, with multi-line data split into one `data:` line per line.

/** One SSE message. Every field is optional; a message with none is not sent by the browser's parser, so say something. */
export interface SseMessage {
  /** Named event: htmx dispatches it as a DOM event instead of swapping the data. */
  event?: string;
  id?: string;
  /** The client's reconnection delay in ms (htmx uses it as the base of its backoff). */
  retry?: number;
  data?: string;
}

/** Any line break the SSE parser recognises: a `data:` line ends at each of them, so each must start a new `data:` line. */
const LINE_BREAK = /\r\n|\r|\n/;

/**
 * The message as it goes on the wire, ending with the blank line that dispatches it. Elysia's `sse()`
 * writes `data: ${data}` without splitting, so everything after the first newline was lost: hence this.
 * A value after `data: ` keeps its own leading spaces (the parser strips exactly one).
 */
export function formatSse(m: SseMessage): string {
  let out = "";
  if (m.event !== undefined) out += `event: ${singleLine("event", m.event)}\n`;
  if (m.id !== undefined) {
    // The browser ignores an id holding NUL; refusing it here makes the mistake visible.
    if (m.id.includes("\0")) throw new Error("SSE id must not contain NUL");
    out += `id: ${singleLine("id", m.id)}\n`;
  }
  if (m.retry !== undefined) {
    if (!Number.isInteger(m.retry) || m.retry < 0) throw new Error(`SSE retry must be a non-negative integer of ms, got ${m.retry}`);
    out += `retry: ${m.retry}\n`;
  }
  if (m.data !== undefined) for (const line of m.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return out + "\n";
}

/** A comment line: ignored by the client, it keeps proxies and idle timers from closing a quiet stream. */
export function formatSseComment(text = ""): string {
  return (
    text
      .split(LINE_BREAK)
      .map((line) => `:${line === "" ? "" : ` ${line}`}\n`)
      .join("") + "\n"
  );
}

function singleLine(field: string, value: string): string {
  if (LINE_BREAK.test(value)) throw new Error(`SSE ${field} must be one line, got ${JSON.stringify(value)}`);
  return value;
}

/** A parsed message, as a browser's EventSource (or htmx's parser) would see it; for tests and the benchmark's clients. */
export interface ParsedSse {
  event: string;
  id: string | undefined;
  retry: number | undefined;
  data: string;
  /** Comments seen since the previous message (heartbeats). */
  comments: string[];
}

/**
 * Incremental parser after the WHATWG rules: feed it chunks as they arrive, it returns the messages completed so far.
 * Like htmx's own parser, a message without data is still returned when it carries an event or id.
 */
export class SseParser {
  private buffer = "";
  private message: ParsedSse = SseParser.empty();
  private hasData = false;
  private afterCR = false;

  private static empty(): ParsedSse {
    return { event: "", id: undefined, retry: undefined, data: "", comments: [] };
  }

  push(chunk: string): ParsedSse[] {
    // A chunk ending in "\r" may have cut a "\r\n" in two: the "\n" that follows ends no further line.
    if (this.afterCR && chunk.startsWith("\n")) chunk = chunk.slice(1);
    this.afterCR = chunk.endsWith("\r");
    this.buffer += chunk;
    const lines = this.buffer.split(LINE_BREAK);
    this.buffer = lines.pop() ?? "";
    const out: ParsedSse[] = [];
    for (const line of lines) {
      if (line === "") {
        const m = this.message;
        if (this.hasData || m.event !== "" || m.id !== undefined || m.retry !== undefined || m.comments.length > 0) out.push(m);
        this.message = SseParser.empty();
        this.hasData = false;
        continue;
      }
      const colon = line.indexOf(":");
      if (colon === 0) {
        this.message.comments.push(line.slice(1).replace(/^ /, ""));
        continue;
      }
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") {
        this.message.data += (this.hasData ? "\n" : "") + value;
        this.hasData = true;
      } else if (field === "event") this.message.event = value;
      else if (field === "id") this.message.id = value;
      else if (field === "retry" && /^\d+$/.test(value)) this.message.retry = Number(value);
    }
    return out;
  }
}

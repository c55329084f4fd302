// The SSE formatter: every line break in data starts a new data line, and what a parser reads back is what was sent.
import { describe, expect, test } from "bun:test";
import { formatSse, formatSseComment, SseParser } from "./sse.ts";

describe("formatSse", () => {
  test("one line of data, with event, id and retry", () => {
    expect(formatSse({ event: "ping", id: "7", retry: 1000, data: "hello" })).toBe("event: ping\nid: 7\nretry: 1000\ndata: hello\n\n");
  });

  test("splits data on \\n, \\r\\n and a lone \\r", () => {
    expect(formatSse({ data: "a\nb\r\nc\rd" })).toBe("data: a\ndata: b\ndata: c\ndata: d\n\n");
  });

  test("keeps empty lines and leading spaces as data lines", () => {
    expect(formatSse({ data: "\n  x\n" })).toBe("data: \ndata:   x\ndata: \n\n");
  });

  test("HTML with newlines and a CR survives a parser, CR read back as LF (as HTML's own parser would)", () => {
    const html = '<tr data-worker="1">\n  <td>gpu-07</td>\r\n  <td title="a\rb">&lt;img src=x&gt;</td>\n</tr>';
    const [m] = new SseParser().push(formatSse({ data: html }));
    expect(m!.data).toBe(html.replace(/\r\n?/g, "\n"));
    expect(formatSse({ data: html })).not.toMatch(/\r/);
  });

  test("refuses a line break in event or id, a NUL in id, a bad retry", () => {
    expect(() => formatSse({ event: "a\nb" })).toThrow("one line");
    expect(() => formatSse({ id: "a\rb" })).toThrow("one line");
    expect(() => formatSse({ id: "a\0b" })).toThrow("NUL");
    expect(() => formatSse({ retry: -1 })).toThrow("retry");
    expect(() => formatSse({ retry: 1.5 })).toThrow("retry");
  });

  test("comments: one ':' line per line, ignored by the parser as data", () => {
    expect(formatSseComment("heartbeat")).toBe(": heartbeat\n\n");
    expect(formatSseComment("a\nb")).toBe(": a\n: b\n\n");
    expect(formatSseComment()).toBe(":\n\n");
    const [m] = new SseParser().push(formatSseComment("heartbeat"));
    expect(m).toMatchObject({ data: "", comments: ["heartbeat"] });
  });
});

describe("SseParser", () => {
  const wire =
    formatSse({ retry: 1000, data: "first\nsecond" }) +
    formatSseComment("hb") +
    formatSse({ event: "x", id: "2", data: "third\r\nfourth" });

  test("reads back what was sent, whichever way the bytes are cut", () => {
    const whole = new SseParser().push(wire);
    expect(whole.map((m) => [m.event, m.id, m.retry, m.data])).toEqual([
      ["", undefined, 1000, "first\nsecond"],
      ["", undefined, undefined, ""],
      ["x", "2", undefined, "third\nfourth"],
    ]);
    for (let cut = 1; cut < wire.length; cut++) {
      const p = new SseParser();
      expect([...p.push(wire.slice(0, cut)), ...p.push(wire.slice(cut))]).toEqual(whole);
    }
  });

  test("a \\r\\n cut between two chunks ends one line, not two", () => {
    const p = new SseParser();
    expect([...p.push("data: a\r"), ...p.push("\ndata: b\r"), ...p.push("\n\r\n")]).toEqual([
      { event: "", id: undefined, retry: undefined, data: "a\nb", comments: [] },
    ]);
  });
});

// The log probe: the last lines of a unit's journal (journalctl, argv array) or of a log file (a bounded read of its end).
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { MAX_LOG_LINE_CHARS, MAX_LOG_LINES, type ProbeResult } from "../../src/protocol/messages.ts";
import { errorText, type ProbeContext } from "./context.ts";
import { runTool } from "./exec.ts";
import { allowedPath } from "./paths.ts";
import { probeUnitName } from "./unit.ts";

/** Of a log file only its end is read: enough for 100 lines of any sane log, and bounded for a 50 GB one. */
export const TAIL_BYTES = 256 * 1024;

/** The `journalctl` command line for a unit whose name was already validated and allowed. */
export function journalArgv(journalctl: string, unit: string, lines: number): string[] {
  return [journalctl, "-u", unit, "-n", String(lines), "--no-pager", "-o", "short-iso"];
}

function clipLine(line: string): string {
  return line.length <= MAX_LOG_LINE_CHARS ? line : `${line.slice(0, MAX_LOG_LINE_CHARS - 1)}…`;
}

/**
 * The last `n` lines of `text`, each cut to MAX_LOG_LINE_CHARS. `partialStart`: the text begins in
 * the middle of the file, so its first line is a fragment and is left out (unless it is all there is).
 */
export function lastLines(text: string, n: number, partialStart = false): string[] {
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (lines.at(-1) === "") lines.pop();
  if (partialStart && lines.length > 1) lines.shift();
  return lines.slice(-Math.min(n, MAX_LOG_LINES)).map(clipLine);
}

/**
 * Logs are data from the worker that a head user would not otherwise see, so they are read only for
 * units on the agent's restart allow-list (the units the operator handed to Vigil) and for files
 * under VIGIL_PROBE_PATHS. Any valid unit's state may be read; its log may not.
 */
export async function logProbe(probe: { unit?: string; path?: string; lines: number }, ctx: ProbeContext): Promise<ProbeResult<"log">> {
  const n = Math.max(1, Math.min(MAX_LOG_LINES, Math.floor(probe.lines)));
  if (probe.unit !== undefined && probe.path !== undefined) throw new Error("a log probe names a unit or a path, not both");
  if (probe.unit === undefined && probe.path === undefined) throw new Error("a log probe needs a unit or a path");
  if (probe.unit !== undefined) return journalTail(probe.unit, n, ctx);
  return fileTail(probe.path!, n, ctx);
}

async function journalTail(name: string, n: number, ctx: ProbeContext): Promise<ProbeResult<"log">> {
  const unit = probeUnitName(name);
  if (!ctx.settings.logUnits.includes(unit))
    throw new Error(`the log of ${unit} is not shown: the unit is not on this agent's restart allow-list (VIGIL_RESTART_ALLOW)`);
  const journalctl = ctx.settings.journalctl ?? "journalctl";
  // 100 lines of at most 48 KiB each (journald's LineMax) is the worst case; a MiB is plenty past the cut.
  const out = await runTool(journalArgv(journalctl, unit, n), { timeoutMs: ctx.timeoutMs, maxBytes: 1024 * 1024 });
  if (out.code !== 0)
    throw new Error(`journalctl -u ${unit} exited with ${out.code}${out.stderrLine ? `: ${out.stderrLine}` : " and printed nothing"}`);
  const lines = lastLines(out.stdout, n).filter((l) => l !== "-- No entries --");
  // journalctl's hint when the agent's user may not read the system journal: without it, an empty log would look like a quiet unit.
  return { source: unit, lines, ...(out.stderrLine ? { note: clipLine(out.stderrLine) } : {}) };
}

async function fileTail(path: string, n: number, ctx: ProbeContext): Promise<ProbeResult<"log">> {
  const real = await allowedPath(path, ctx.settings.paths);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_NONBLOCK: a FIFO under the allowed directory must not hang the open; O_NOFOLLOW: the resolved path has no link left.
    handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (err) {
    throw new Error(`cannot open ${path}: ${errorText(err)}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new Error(`${path} is not a regular file`);
    const start = Math.max(0, info.size - TAIL_BYTES);
    const buffer = Buffer.alloc(Math.min(info.size, TAIL_BYTES));
    let read = 0;
    while (read < buffer.length) {
      const { bytesRead } = await handle.read(buffer, read, buffer.length - read, start + read);
      if (bytesRead === 0) break; // truncated since the stat
      read += bytesRead;
    }
    const text = new TextDecoder().decode(buffer.subarray(0, read));
    return { source: path, lines: lastLines(text, n, start > 0) };
  } finally {
    await handle.close();
  }
}

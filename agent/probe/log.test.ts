// Checks the log probe: a unit's journal through the fake journalctl (argv, allow-list, failures) and a file's tail (bounded read, refusals).
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ProbeContext } from "./context.ts";
import { lastLines, logProbe, TAIL_BYTES } from "./log.ts";

const FAKE_JOURNALCTL = resolve(import.meta.dir, "../../test/fake-journalctl/journalctl");
const tmp = realpathSync(mkdtempSync(join(tmpdir(), "vigil-probe-log-")));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const logs = join(tmp, "logs");
mkdirSync(logs);
const calls = join(tmp, "calls");
const journal = join(tmp, "journal");
const ctx = (timeoutMs = 5000): ProbeContext => ({
  settings: { logUnits: ["comfyui.service", "vllm.service"], paths: [logs], journalctl: FAKE_JOURNALCTL },
  timeoutMs,
});
const recorded = (): string[][] =>
  existsSync(calls)
    ? readFileSync(calls, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as string[])
    : [];

process.env.FAKE_JOURNALCTL_LOG = calls;
process.env.FAKE_JOURNALCTL_OUTPUT = journal;
afterEach(() => {
  rmSync(calls, { force: true });
  delete process.env.FAKE_JOURNALCTL_MODE;
});
afterAll(() => {
  delete process.env.FAKE_JOURNALCTL_LOG;
  delete process.env.FAKE_JOURNALCTL_OUTPUT;
});

const journalLine = (i: number) => `2026-11-23T10:00:${String(i % 60).padStart(2, "0")}+0000 gpu-07 python3[4242]: step ${i}`;

describe("lastLines", () => {
  test("the last n lines, without the final newline's empty line, CR removed", () => {
    expect(lastLines("a\nb\r\nc\n", 2)).toEqual(["b", "c"]);
    expect(lastLines("a\nb", 5)).toEqual(["a", "b"]);
    expect(lastLines("", 5)).toEqual([]);
  });

  test("a text cut in the middle of the file loses its first, partial line", () => {
    expect(lastLines("tail of a line\nwhole\n", 10, true)).toEqual(["whole"]);
    expect(lastLines("only a fragment", 10, true)).toEqual(["only a fragment"]);
  });

  test("never more than 100 lines of at most 2000 characters", () => {
    const text = Array.from({ length: 300 }, (_, i) => `line ${i}`).join("\n");
    expect(lastLines(text, 1000)).toHaveLength(100);
    const [long] = lastLines("x".repeat(5000), 1);
    expect(long).toHaveLength(2000);
    expect(long!.endsWith("…")).toBe(true);
  });
});

describe("a unit's journal", () => {
  test("journalctl -u UNIT -n N --no-pager -o short-iso, as an argv array", async () => {
    writeFileSync(journal, Array.from({ length: 150 }, (_, i) => journalLine(i)).join("\n") + "\n");
    const r = await logProbe({ unit: "comfyui.service", lines: 100 }, ctx());
    expect(recorded()).toEqual([["-u", "comfyui.service", "-n", "100", "--no-pager", "-o", "short-iso"]]);
    expect(r.source).toBe("comfyui.service");
    expect(r.lines).toHaveLength(100);
    expect(r.lines[0]).toBe(journalLine(50));
    expect(r.lines[99]).toBe(journalLine(149));
    expect(r.note).toBeUndefined();
  });

  test("fewer lines when asked; a name without a type is completed, then checked against the list", async () => {
    writeFileSync(journal, Array.from({ length: 10 }, (_, i) => journalLine(i)).join("\n") + "\n");
    expect((await logProbe({ unit: "vllm", lines: 3 }, ctx())).lines).toEqual([journalLine(7), journalLine(8), journalLine(9)]);
    expect(recorded()[0]!.slice(0, 4)).toEqual(["-u", "vllm.service", "-n", "3"]);
  });

  test('"-- No entries --" is no lines', async () => {
    writeFileSync(journal, "");
    expect((await logProbe({ unit: "comfyui.service", lines: 100 }, ctx())).lines).toEqual([]);
  });

  test("journalctl's hint that the agent may not read the system journal comes back as a note", async () => {
    process.env.FAKE_JOURNALCTL_MODE = "no-permission";
    const r = await logProbe({ unit: "comfyui.service", lines: 100 }, ctx());
    expect(r.lines).toEqual([]);
    expect(r.note).toBe("Hint: You are currently not seeing messages from other users and the system.");
  });

  test("a unit not on the restart allow-list: its log is refused and journalctl never runs", async () => {
    await expect(logProbe({ unit: "sshd.service", lines: 100 }, ctx())).rejects.toThrow(
      "the log of sshd.service is not shown: the unit is not on this agent's restart allow-list (VIGIL_RESTART_ALLOW)",
    );
    await expect(logProbe({ unit: "x;id", lines: 100 }, ctx())).rejects.toThrow('"x;id" is not a valid unit name');
    await expect(logProbe({ unit: "--all", lines: 100 }, ctx())).rejects.toThrow(/starts with "-"/);
    expect(recorded()).toEqual([]);
  });

  test("journalctl failing or hanging", async () => {
    process.env.FAKE_JOURNALCTL_MODE = "fail";
    await expect(logProbe({ unit: "comfyui.service", lines: 10 }, ctx())).rejects.toThrow(
      "journalctl -u comfyui.service exited with 1: Failed to add match '_SYSTEMD_UNIT=comfyui.service': Invalid argument",
    );
    process.env.FAKE_JOURNALCTL_MODE = "hang";
    await expect(logProbe({ unit: "comfyui.service", lines: 10 }, ctx(300))).rejects.toThrow(/did not finish within 0.3 s/);
  });

  test("a unit and a path, or neither, is a malformed probe", async () => {
    await expect(logProbe({ unit: "comfyui.service", path: join(logs, "a.log"), lines: 10 }, ctx())).rejects.toThrow(/not both/);
    await expect(logProbe({ lines: 10 }, ctx())).rejects.toThrow(/needs a unit or a path/);
  });
});

describe("a log file's tail", () => {
  test("the last lines of a small file", async () => {
    const file = join(logs, "comfyui.log");
    writeFileSync(file, "starting\r\nloaded model\nready\n");
    expect(await logProbe({ path: file, lines: 2 }, ctx())).toEqual({ source: file, lines: ["loaded model", "ready"] });
  });

  test("of a large file only the last 256 KiB are read, and the partial first line is dropped", async () => {
    const file = join(logs, "big.log");
    // 4 MiB of 1 KiB lines, then a last short line.
    const line = (i: number) => `${String(i).padStart(8, "0")} ${"x".repeat(1014)}`;
    writeFileSync(file, Array.from({ length: 4096 }, (_, i) => line(i)).join("\n") + "\nthe end\n");
    const r = await logProbe({ path: file, lines: 100 }, ctx());
    expect(r.lines).toHaveLength(100);
    expect(r.lines.at(-1)).toBe("the end");
    expect(r.lines.at(-2)).toBe(line(4095));
    // Asking for all 100 from a 256 KiB window of 1 KiB lines: none of them is the fragment at its start.
    expect(r.lines.every((l) => l === "the end" || /^\d{8} x{1014}$/.test(l))).toBe(true);
    expect(TAIL_BYTES).toBe(256 * 1024);
  });

  test("a file of one huge line still gives one line, cut to 2000 characters", async () => {
    const file = join(logs, "one-line.log");
    writeFileSync(file, "y".repeat(1024 * 1024));
    const r = await logProbe({ path: file, lines: 10 }, ctx());
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toHaveLength(2000);
  });

  test("paths outside VIGIL_PROBE_PATHS are refused, through .. or a symlink too", async () => {
    await expect(logProbe({ path: "/etc/shadow", lines: 10 }, ctx())).rejects.toThrow(
      `path /etc/shadow is not under VIGIL_PROBE_PATHS (${logs})`,
    );
    await expect(logProbe({ path: `${logs}/../calls`, lines: 10 }, ctx())).rejects.toThrow(/is not under VIGIL_PROBE_PATHS/);
    symlinkSync("/etc/passwd", join(logs, "passwd.log"));
    await expect(logProbe({ path: join(logs, "passwd.log"), lines: 10 }, ctx())).rejects.toThrow("it leads to /etc/passwd");
  });

  test("not a regular file: a directory, or a FIFO that would block a reader", async () => {
    await expect(logProbe({ path: logs, lines: 10 }, ctx())).rejects.toThrow(`${logs} is not a regular file`);
    const fifo = join(logs, "pipe.log");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    await expect(logProbe({ path: fifo, lines: 10 }, ctx())).rejects.toThrow(`${fifo} is not a regular file`);
  });

  test("a missing file is an error naming it", async () => {
    await expect(logProbe({ path: join(logs, "missing.log"), lines: 10 }, ctx())).rejects.toThrow(
      `cannot open ${join(logs, "missing.log")}: ENOENT`,
    );
  });
});

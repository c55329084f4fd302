// Checks the disk spool: take and ack, its bounds and dropped counter, restarts, repair of damaged files, and SIGKILL.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Sample } from "../src/protocol/sample.ts";
import { makeSample, SAMPLE_BASE_MS } from "../test/fixtures/samples.ts";
import { Spool, type SpoolOptions } from "./spool.ts";

const HEADER_BYTES = 28; // the frame header documented in spool.ts
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "vigil-spool-"));
  dirs.push(dir);
  return join(dir, "spool"); // not there yet: open() creates it
}

function captureLog() {
  const warnings: { msg: string; ctx?: Record<string, unknown> }[] = [];
  return { warnings, log: { warn: (msg: string, ctx?: Record<string, unknown>) => warnings.push({ msg, ctx }), info() {} } };
}

/** [from, to) */
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const seqsOf = (samples: Sample[]) => samples.map((s) => s.seq);
const segmentFiles = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith(".seg"))
    .sort();
const bytesInDir = (dir: string) => readdirSync(dir).reduce((n, name) => n + statSync(join(dir, name)).size, 0);

async function appendRange(spool: Spool, from: number, to: number, opts: Parameters<typeof makeSample>[1] = {}): Promise<void> {
  for (let seq = from; seq < to; seq++) await spool.append(makeSample(seq, opts));
}

/** Offset and length of every frame in a segment file, read with the format's own length field. */
function framesOf(path: string): { offset: number; length: number }[] {
  const buf = readFileSync(path);
  const frames: { offset: number; length: number }[] = [];
  for (let offset = 0; offset < buf.length; ) {
    const length = HEADER_BYTES + buf.readUInt32LE(offset + 8);
    frames.push({ offset, length });
    offset += length;
  }
  return frames;
}

async function reopen(spool: Spool, opts: SpoolOptions): Promise<Spool> {
  await spool.close();
  return Spool.open(opts);
}

describe("taking and acknowledging", () => {
  test("a sample goes in, comes back equal, and leaves for good when acknowledged", async () => {
    const dir = tempDir();
    const spool = await Spool.open({ dir });
    try {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(spool.nextSeq()).toBe(0);
      const samples = [makeSample(0, { gpus: 8 }), makeSample(1, { gpus: 8 }), makeSample(2, { gpus: 8 })];
      for (const s of samples) await spool.append(s);
      expect(spool.pending).toBe(3);
      expect(spool.nextSeq()).toBe(3);
      expect(await spool.takeBacklog(10)).toEqual(samples);
      expect(await spool.takeBacklog(10)).toEqual([]); // all in flight
      await spool.ack([0, 1, 2, 77]); // 77 was never spooled: ignored
      expect(spool.pending).toBe(0);
      expect(await spool.takeLive(10)).toEqual([]);
      expect(spool.bytes).toBe(bytesInDir(dir));
    } finally {
      await spool.close();
    }
  });

  test("during a backlog, takeLive hands out the newest and takeBacklog the oldest, never one sample twice", async () => {
    const dir = tempDir();
    const spool = await Spool.open({ dir });
    try {
      await appendRange(spool, 0, 100); // an outage's worth
      expect(seqsOf(await spool.takeLive(1))).toEqual([99]);
      expect(seqsOf(await spool.takeBacklog(10))).toEqual(range(0, 10));
      expect(seqsOf(await spool.takeBacklog(10))).toEqual(range(10, 20));
      await spool.append(makeSample(100));
      // The newest not in flight, oldest first: 99 is already out.
      expect(seqsOf(await spool.takeLive(5))).toEqual([95, 96, 97, 98, 100]);
      await spool.ack([99, ...range(0, 10)]);
      spool.release(range(10, 20)); // the connection dropped before their ack
      expect(spool.pending).toBe(101 - 11);
      expect(seqsOf(await spool.takeBacklog(5))).toEqual(range(10, 15));
      spool.release([95, 96, 97, 98, 100, 3]); // 3 is acknowledged already: ignored
      expect(seqsOf(await spool.takeLive(3))).toEqual([97, 98, 100]);
      expect(seqsOf(await spool.takeBacklog(1000))).toEqual([...range(15, 97)]);
      expect(await spool.takeLive(10)).toEqual([]);
    } finally {
      await spool.close();
    }
  });

  test("append refuses a seq that is not above every seq before it", async () => {
    const dir = tempDir();
    const spool = await Spool.open({ dir });
    try {
      await spool.append(makeSample(5));
      await expect(spool.append(makeSample(5))).rejects.toThrow("spool: seq 5 is not above the last spooled seq 5");
      await expect(spool.append(makeSample(3))).rejects.toThrow("not above");
      await spool.append(makeSample(9)); // gaps are fine
      expect(spool.nextSeq()).toBe(10);
      expect(seqsOf(await spool.takeBacklog(10))).toEqual([5, 9]);
    } finally {
      await spool.close();
    }
  });

  test("with syncIntervalMs 0 every append and ack is synced before it resolves", async () => {
    const dir = tempDir();
    let spool = await Spool.open({ dir, syncIntervalMs: 0 });
    await appendRange(spool, 0, 20);
    await spool.ack(seqsOf(await spool.takeBacklog(5)));
    spool = await reopen(spool, { dir });
    expect(seqsOf(await spool.takeBacklog(100))).toEqual(range(5, 20));
    await spool.close();
    await spool.close(); // twice is harmless
    await expect(spool.append(makeSample(20))).rejects.toThrow(`spool ${dir} is closed`);
  });
});

describe("restart", () => {
  test("keeps unacknowledged samples (in flight or not), the seq numbering and the dropped counter", async () => {
    const dir = tempDir();
    const frame = HEADER_BYTES + Buffer.byteLength(JSON.stringify(makeSample(50)));
    const opts = { dir, maxBytes: 100 * frame };
    let spool = await Spool.open(opts);
    await appendRange(spool, 0, 150);
    const dropped = spool.dropped;
    expect(dropped).toBeGreaterThan(0);
    const kept = seqsOf(await spool.takeBacklog(20)); // in flight when the agent stops
    await spool.ack(kept.slice(0, 10));
    spool = await reopen(spool, opts);
    try {
      expect(spool.dropped).toBe(dropped);
      expect(spool.nextSeq()).toBe(150);
      expect(spool.pending).toBe(150 - dropped - 10);
      expect(seqsOf(await spool.takeBacklog(1000))).toEqual(range(dropped + 10, 150));
      await expect(spool.append(makeSample(149))).rejects.toThrow("not above");
      await spool.append(makeSample(150));
    } finally {
      await spool.close();
    }
  });

  test("continues numbering after the highest seq even when every sample was acknowledged and deleted", async () => {
    const dir = tempDir();
    let spool = await Spool.open({ dir });
    await appendRange(spool, 0, 30);
    await spool.ack(seqsOf(await spool.takeBacklog(100)));
    spool = await reopen(spool, { dir });
    expect(segmentFiles(dir)).toEqual([]);
    expect(spool.nextSeq()).toBe(30);
    await spool.close();
  });
});

describe("bounds", () => {
  test("size: the oldest go first, whole segments at a time, and the dropped counter is exact", async () => {
    const dir = tempDir();
    const frame = HEADER_BYTES + Buffer.byteLength(JSON.stringify(makeSample(500)));
    const maxBytes = 300 * frame; // fits about 300 samples
    const opts = { dir, maxBytes };
    let spool = await Spool.open(opts);
    await appendRange(spool, 0, 1000);

    const left = seqsOf(await spool.takeBacklog(2000));
    const first = left[0]!;
    expect(left).toEqual(range(first, 1000));
    expect(spool.dropped).toBe(first);
    expect(spool.bytes).toBeLessThanOrEqual(maxBytes);
    expect(spool.bytes).toBe(bytesInDir(dir));
    // Segments are maxBytes / 16, so at most about a sixteenth of the room is left unused.
    expect(left.length).toBeGreaterThan(300 * (14 / 16));

    // Samples the head acknowledged are not losses when their segment goes.
    spool.release(left);
    const acked = new Set(range(first + 100, first + 150));
    await spool.ack([...acked]);
    await appendRange(spool, 1000, 1200);
    const left2 = seqsOf(await spool.takeBacklog(2000));
    const first2 = left2[0]!;
    expect(first2).toBeGreaterThan(first);
    expect(left2).toEqual(range(first2, 1200).filter((s) => !acked.has(s)));
    const lostNow = range(first, first2).filter((s) => !acked.has(s)).length;
    expect(spool.dropped).toBe(first + lostNow);

    const dropped = spool.dropped;
    spool = await reopen(spool, opts);
    expect(spool.dropped).toBe(dropped);
    expect(seqsOf(await spool.takeBacklog(2000))).toEqual(left2);
    await spool.close();
  });

  test("age: samples older than maxAgeMs by their ts are dropped oldest first, on append and on take", async () => {
    const dir = tempDir();
    let clock = SAMPLE_BASE_MS;
    const opts = { dir, maxAgeMs: 60_000, now: () => clock };
    let spool = await Spool.open(opts);
    for (let seq = 0; seq < 100; seq++) {
      clock = SAMPLE_BASE_MS + seq * 1000;
      await spool.append(makeSample(seq, { ts: new Date(clock) }));
    }
    // Now is seq 99's ts: everything older than seq 39's ts is over 60 s old.
    expect(spool.dropped).toBe(39);
    expect(spool.pending).toBe(61);
    clock += 30_000;
    expect(seqsOf(await spool.takeBacklog(1000))).toEqual(range(69, 100));
    expect(spool.dropped).toBe(69);

    spool = await reopen(spool, opts);
    expect(spool.dropped).toBe(69);
    expect(seqsOf(await spool.takeBacklog(1000))).toEqual(range(69, 100));
    await spool.close();
  });

  test("a sample dropped while in flight counts as dropped only if it is released, or still unanswered at close", async () => {
    const dir = tempDir();
    let clock = SAMPLE_BASE_MS;
    const opts = { dir, maxAgeMs: 60_000, now: () => clock };
    let spool = await Spool.open(opts);
    for (let seq = 0; seq < 20; seq++) await spool.append(makeSample(seq, { ts: new Date(SAMPLE_BASE_MS + seq * 1000) }));
    expect(seqsOf(await spool.takeBacklog(6))).toEqual(range(0, 6));
    clock = SAMPLE_BASE_MS + 70_000; // seqs 0-9 are over 60 s old
    await spool.append(makeSample(20, { ts: new Date(clock) }));
    expect(spool.dropped).toBe(4); // 6-9; 0-5 are with the head
    expect(spool.pending).toBe(11);
    await spool.ack([0, 1, 2]); // the head got them after all
    expect(spool.dropped).toBe(4);
    spool.release([3, 4, 5]);
    spool.release([3]);
    expect(spool.dropped).toBe(7);

    expect(seqsOf(await spool.takeBacklog(2))).toEqual([10, 11]);
    clock = SAMPLE_BASE_MS + 72_000;
    expect(seqsOf(await spool.takeBacklog(100))).toEqual(range(12, 21));
    expect(spool.dropped).toBe(7);
    spool = await reopen(spool, opts); // 10 and 11 never answered
    expect(spool.dropped).toBe(9);
    await spool.close();
  });
});

describe("damage", () => {
  test("a torn last record is cut off with a warning, and appending continues after the intact ones", async () => {
    const dir = tempDir();
    let spool = await Spool.open({ dir });
    await appendRange(spool, 0, 20);
    await spool.close();
    const [name] = segmentFiles(dir);
    const path = join(dir, name!);
    const last = framesOf(path)[19]!;
    truncateSync(path, last.offset + last.length - 100); // killed mid-write

    const { warnings, log } = captureLog();
    spool = await Spool.open({ dir, log });
    expect(warnings.map((w) => w.msg)).toEqual([
      `spool segment damaged: dropped ${last.length - 100} bytes at offset ${last.offset} of ${path}, kept the intact records around them`,
    ]);
    expect(statSync(path).size).toBe(last.offset);
    expect(await spool.takeBacklog(100)).toEqual(range(0, 19).map((s) => makeSample(s)));
    expect(spool.nextSeq()).toBe(20); // the journal remembers 19 even though its record is gone
    await spool.append(makeSample(20));

    const quiet = captureLog();
    spool = await reopen(spool, { dir, log: quiet.log });
    expect(quiet.warnings).toEqual([]);
    expect(seqsOf(await spool.takeBacklog(100))).toEqual([...range(0, 19), 20]);
    await spool.close();
  });

  for (const where of [
    { part: "payload", at: (f: { offset: number; length: number }) => f.offset + HEADER_BYTES + Math.floor((f.length - HEADER_BYTES) / 2) },
    { part: "length field", at: (f: { offset: number; length: number }) => f.offset + 9 },
  ]) {
    test(`a flipped byte in a record's ${where.part} loses that record only: the records before and after it are kept`, async () => {
      const dir = tempDir();
      let spool = await Spool.open({ dir });
      await appendRange(spool, 0, 20, { gpus: 8 });
      await spool.close();
      const path = join(dir, segmentFiles(dir)[0]!);
      const bad = framesOf(path)[10]!;
      const buf = readFileSync(path);
      const at = where.at(bad);
      buf[at] = buf[at]! ^ 0x40;
      writeFileSync(path, buf);

      const { warnings, log } = captureLog();
      spool = await Spool.open({ dir, log });
      expect(warnings.length).toBe(1);
      expect(warnings[0]!.msg).toContain(`dropped ${bad.length} bytes at offset ${bad.offset} of ${path}`);
      expect(warnings[0]!.ctx).toMatchObject({ file: path, offset: bad.offset, bytes: bad.length });
      const expected = [...range(0, 10), ...range(11, 20)];
      expect(await spool.takeBacklog(100)).toEqual(expected.map((s) => makeSample(s, { gpus: 8 })));
      await spool.append(makeSample(20, { gpus: 8 }));

      const quiet = captureLog();
      spool = await reopen(spool, { dir, log: quiet.log });
      expect(quiet.warnings).toEqual([]); // repaired on the first open
      expect(seqsOf(await spool.takeBacklog(100))).toEqual([...expected, 20]);
      await spool.close();
    });
  }

  test("a damaged journal costs only the acks recorded in the damaged part, which are sent again", async () => {
    const dir = tempDir();
    let spool = await Spool.open({ dir });
    await appendRange(spool, 0, 10);
    await spool.ack(range(0, 5));
    await spool.append(makeSample(10));
    await spool.close();
    const journal = join(dir, "state.log");
    truncateSync(journal, statSync(journal).size - 3); // the last entry (lastSeq 10, written at close) is torn

    const torn = captureLog();
    spool = await Spool.open({ dir, log: torn.log });
    expect(torn.warnings.length).toBe(1);
    expect(torn.warnings[0]!.msg).toStartWith(`spool journal damaged: dropped `);
    expect(seqsOf(await spool.takeBacklog(100))).toEqual(range(5, 11));
    expect(spool.nextSeq()).toBe(11);
    await spool.close();

    writeFileSync(journal, Buffer.alloc(500, 0xa5));
    const garbage = captureLog();
    spool = await Spool.open({ dir, log: garbage.log });
    expect(garbage.warnings.length).toBe(1);
    expect(garbage.warnings[0]!.ctx).toMatchObject({ file: journal, offset: 0, bytes: 500 });
    expect(seqsOf(await spool.takeBacklog(100))).toEqual(range(0, 11)); // acks forgotten: the head deduplicates
    expect(spool.nextSeq()).toBe(11);
    await spool.close();
  });
});

test("a segment is deleted once everything in it is acknowledged, so the disk space comes back", async () => {
  const dir = tempDir();
  let spool = await Spool.open({ dir, segmentBytes: 64 * 1024 });
  await appendRange(spool, 0, 500);
  const files = segmentFiles(dir);
  expect(files.length).toBeGreaterThan(10);
  const full = spool.bytes;
  expect(full).toBe(bytesInDir(dir));

  // All but one sample of the first segment: it stays.
  const firstSegment = framesOf(join(dir, files[0]!)).length;
  await spool.ack(range(0, firstSegment - 1));
  expect(segmentFiles(dir)[0]).toBe(files[0]);
  await spool.ack([firstSegment - 1]);
  expect(segmentFiles(dir)[0]).toBe(files[1]);

  for (;;) {
    const batch = seqsOf(await spool.takeBacklog(64));
    if (batch.length === 0) break;
    await spool.ack(batch);
  }
  expect(spool.pending).toBe(0);
  expect(segmentFiles(dir)).toEqual([files[files.length - 1]!]); // the one still being appended to
  expect(spool.bytes).toBe(bytesInDir(dir));
  expect(spool.bytes).toBeLessThan(64 * 1024 + 4096);
  expect(full).toBeGreaterThan(500 * 2000);

  spool = await reopen(spool, { dir });
  expect(segmentFiles(dir)).toEqual([]);
  expect(spool.pending).toBe(0);
  expect(spool.nextSeq()).toBe(500);
  expect(spool.bytes).toBe(bytesInDir(dir));
  expect(spool.bytes).toBeLessThan(200);
  await spool.close();
});

test("SIGKILL mid-stream: acknowledged samples stay gone, every appended one survives, at most the one being written is lost", async () => {
  const dir = tempDir();
  const repo = resolve(import.meta.dir, "..");
  const script = join(dir, "..", "writer.ts");
  writeFileSync(
    script,
    `import { writeSync } from "node:fs";
import { Spool } from ${JSON.stringify(join(repo, "agent/spool.ts"))};
import { makeSample } from ${JSON.stringify(join(repo, "test/fixtures/samples.ts"))};
// writeSync: a reported line is in the pipe before the next step, so the kill cannot overtake it.
const spool = await Spool.open({ dir: process.argv[2]!, segmentBytes: 256 * 1024 });
let seq = spool.nextSeq();
writeSync(1, "start " + seq + "\\n");
for (;;) {
  await spool.append(makeSample(seq, { gpus: 8 }));
  writeSync(1, "a " + seq + "\\n");
  seq++;
  if (seq % 10 === 0) {
    const taken = (await spool.takeBacklog(7)).map((s) => s.seq);
    writeSync(1, "t " + taken.join(",") + "\\n");
    await spool.ack(taken);
    writeSync(1, "k " + taken.join(",") + "\\n");
  }
}
`,
  );

  const appended = new Set<number>();
  const taken = new Set<number>(); // maybe acknowledged
  const acked = new Set<number>(); // surely acknowledged
  let expectedStart = 0;
  for (let round = 0; round < 4; round++) {
    const child = Bun.spawn([process.execPath, script, dir], { stdout: "pipe", stderr: "inherit" });
    const killAfter = 200 + Math.floor(Math.random() * 400);
    let seen = 0;
    let start = -1;
    let text = "";
    const decoder = new TextDecoder();
    const reader = child.stdout.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const lines = text.split("\n");
      text = lines.pop()!;
      for (const line of lines) {
        const [kind, arg = ""] = line.split(" ");
        const nums = arg === "" ? [] : arg.split(",").map(Number);
        if (kind === "start") start = nums[0]!;
        else if (kind === "a") {
          appended.add(nums[0]!);
          if (++seen === killAfter) child.kill("SIGKILL");
        } else if (kind === "t") for (const n of nums) taken.add(n);
        else if (kind === "k") for (const n of nums) acked.add(n);
      }
    }
    expect(await child.exited).not.toBe(0);
    expect(start).toBe(expectedStart);

    const spool = await Spool.open({ dir, log: captureLog().log });
    try {
      const left = seqsOf(await spool.takeBacklog(1_000_000));
      const lastAppended = Math.max(...appended);
      for (const seq of left) {
        expect(acked.has(seq)).toBe(false);
        // Beyond the last reported seq is allowed: under load, the pipe of a SIGKILLed child can end
        // before its last lines are read (seen once in a full CI run), so the report may lag the spool.
        if (!(appended.has(seq) || seq > lastAppended)) {
          throw new Error(`seq ${seq} left in the spool was never reported appended (last reported ${lastAppended}; round ${round})`);
        }
      }
      const leftSet = new Set(left);
      const missing = [...appended].filter((seq) => !taken.has(seq) && !leftSet.has(seq));
      expect(missing).toEqual([]);
      expect(left).toEqual(range(left[0]!, left[0]! + left.length)); // a contiguous run: the oldest are acked first
      expect(spool.nextSeq()).toBeGreaterThan(lastAppended);
      expect(spool.dropped).toBe(0);
      expectedStart = spool.nextSeq();
    } finally {
      await spool.close();
    }
  }
  expect(acked.size).toBeGreaterThan(0);
}, 30_000);

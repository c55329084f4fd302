// The agent's disk spool: every sample is written here before it is sent, and leaves only once the head acknowledges it.
//
// Layout of the spool directory (created 0700; files 0600):
//
//   0000000000001234.seg   segments: append-only runs of sample records, named by the seq of their first record
//                          (16 digits, so names sort like numbers). The agent appends to one segment at a time and
//                          rotates it at segmentBytes (default 4 MiB, smaller when maxBytes is small).
//   state.log              the journal: acks, drops and counters, appended as they happen, rewritten whole
//                          ("compacted") through state.log.tmp + rename when it grows past 64 KiB.
//
// Every record, in both kinds of file, is one frame (little-endian):
//
//   offset  size  field
//        0     4  magic: "VSP1" in a segment, "VSJ1" in the journal
//        4     4  CRC-32 (Bun.hash.crc32, the zlib polynomial) of bytes 8 .. end of frame
//        8     4  N, payload length in bytes (at most 16 MiB)
//       12     8  seq, as a float64 (an integer; 0 in the journal)
//       20     8  ts, milliseconds since the epoch as a float64 (the sample's ts; the write time in the journal)
//       28     N  payload: UTF-8 JSON (the wire Sample; a JournalEntry in the journal)
//
// A journal entry is {"dead": [[from, to], ...], "dropped": D, "lastSeq": L}: the inclusive seq ranges that left the
// spool (acknowledged by the head or dropped by a bound), the dropped counter and the highest seq ever appended, both
// totals as of that entry. Replaying the journal gives the dead set, and the last entry's totals win.
//
// Why this shape, rather than a bare [length][crc][json] per record:
// - seq and ts sit in the header, so opening a 256 MB spool rebuilds its index (seq -> segment, offset, length, ts)
//   by checking CRCs, without parsing any JSON; samples are read back from disk only when taken for sending.
// - The magic lets recovery find the next intact record after damage in the middle of a segment (a flipped bit on
//   disk), so one bad record costs one sample, not the rest of its segment; a torn tail (the agent killed mid-write)
//   is cut off. Either way the spool warns with the file, offset and byte count, repairs the file, and carries on.
// - Acks go to one journal instead of rewriting segments: a segment is deleted as a whole once every record in it is
//   dead, and the size bound drops whole segments (oldest first), because that is the unit that frees disk space.
//   The journal entry that kills records is written before their segment is deleted, and carries the counters in
//   the same frame, so a crash between the two can neither lose nor double-count a drop.
//
// Durability: append() and ack() write(2) their frame before resolving, so a SIGKILL of the agent loses at most the
// record being written. fdatasync costs about 1 ms (about 4 µs for the write alone, measured on the dev VM), so it is
// batched: at most every syncIntervalMs (200 ms by default, 0 for one per call), on sync() and on close(). A power
// loss can therefore lose the last 200 ms, and a seq the head has already seen may then be reused, which the head
// tolerates (it deduplicates by worker and timestamp).
//
// Bounds: when the spool is over maxBytes (everything in the directory counted) or holds samples older than maxAgeMs
// (by the sample's ts), the oldest samples go first, each counted once in `dropped`. A sample dropped while in flight
// is counted only if the sender then releases it, since the head may yet acknowledge it; if the agent closes with
// such samples still unanswered, they count as dropped. The newest segment is never dropped for size, so the spool
// can only exceed maxBytes when one record is larger than a segment.
//
// One process at a time: two agents sharing a spool directory would corrupt it, and nothing here prevents that.
import {
  closeSync,
  fdatasync,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { Sample } from "../src/protocol/sample.ts";

export interface SpoolOptions {
  dir: string;
  /** Bytes on disk, all files together (default 256 MiB). */
  maxBytes?: number;
  /** Oldest sample kept, by its ts (default 72 h). */
  maxAgeMs?: number;
  /** Wall clock in ms since the epoch, compared with the samples' ts (default Date.now). */
  now?: () => number;
  log?: { warn(msg: string, ctx?: Record<string, unknown>): void; info(msg: string, ctx?: Record<string, unknown>): void };
  /** Longest time a written record waits for fdatasync (default 200 ms); 0 syncs before every append and ack resolves. */
  syncIntervalMs?: number;
  /** Size at which a segment is rotated (default 4 MiB, or maxBytes / 16 when that is smaller, at least 4 KiB). */
  segmentBytes?: number;
}

export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_AGE_MS = 72 * 3600_000;
export const DEFAULT_SYNC_INTERVAL_MS = 200;

const SEGMENT_MAGIC = 0x31505356; // "VSP1" in file order
const JOURNAL_MAGIC = 0x314a5356; // "VSJ1"
const HEADER_BYTES = 28;
/** A length above this is damage, not a sample: 64 GPUs with thousands of processes stay far below it. */
const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
const MAX_SEGMENT_BYTES = 4 * 1024 * 1024;
const MIN_SEGMENT_BYTES = 4 * 1024;
const COMPACT_MIN_BYTES = 64 * 1024;
/** Records further apart than this in one segment are read separately when taken, not as one span. */
const READ_GAP_BYTES = 64 * 1024;
const JOURNAL = "state.log";
const SEGMENT_NAME = /^(\d{16})\.seg$/;

const PENDING = 0;
const IN_FLIGHT = 1;
const DEAD = 2;
type RecordState = typeof PENDING | typeof IN_FLIGHT | typeof DEAD;

interface Segment {
  firstSeq: number;
  path: string;
  size: number;
  /** In seq order, dead ones included, so the journal snapshot can name them. */
  records: SpoolRecord[];
  live: number;
  /** Open only while this is the segment being appended to. */
  fd: number | null;
  dirty: boolean;
}

interface SpoolRecord {
  seq: number;
  ts: number;
  offset: number;
  length: number;
  segment: Segment;
  state: RecordState;
}

interface JournalEntry {
  dead: [number, number][];
  dropped: number;
  lastSeq: number | null;
}

interface Frame {
  offset: number;
  length: number;
  seq: number;
  ts: number;
}

const crc32 = (bytes: Uint8Array) => Bun.hash.crc32(bytes) >>> 0;
const errorCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;
const segmentName = (firstSeq: number) => `${String(firstSeq).padStart(16, "0")}.seg`;

function encodeFrame(magic: number, seq: number, ts: number, json: string): Buffer {
  const n = Buffer.byteLength(json);
  if (n > MAX_PAYLOAD_BYTES) throw new Error(`spool record of ${n} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit (seq ${seq})`);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + n);
  frame.writeUInt32LE(magic, 0);
  frame.writeUInt32LE(n, 8);
  frame.writeDoubleLE(seq, 12);
  frame.writeDoubleLE(ts, 20);
  frame.write(json, HEADER_BYTES, "utf8");
  frame.writeUInt32LE(crc32(frame.subarray(8)), 4);
  return frame;
}

/** The intact frame at `offset`, or null: a wrong magic, an impossible length or a CRC mismatch are all damage. */
function frameAt(buf: Buffer, offset: number, magic: number): Frame | null {
  if (offset + HEADER_BYTES > buf.length || buf.readUInt32LE(offset) !== magic) return null;
  const n = buf.readUInt32LE(offset + 8);
  if (n > MAX_PAYLOAD_BYTES || offset + HEADER_BYTES + n > buf.length) return null;
  if (crc32(buf.subarray(offset + 8, offset + HEADER_BYTES + n)) !== buf.readUInt32LE(offset + 4)) return null;
  const seq = buf.readDoubleLE(offset + 12);
  if (!Number.isSafeInteger(seq) || seq < 0) return null;
  return { offset, length: HEADER_BYTES + n, seq, ts: buf.readDoubleLE(offset + 20) };
}

/**
 * Every intact frame of a file, and the byte ranges between them that are not. After damage the scan resumes at the
 * next magic that starts an intact frame. In a segment seqs must increase (from above `after`): a frame that breaks
 * the order is counted as damage too.
 */
function scanFrames(buf: Buffer, magic: number, after: number | null): { frames: Frame[]; damage: { offset: number; bytes: number }[] } {
  const frames: Frame[] = [];
  const damage: { offset: number; bytes: number }[] = [];
  const needle = Buffer.alloc(4);
  needle.writeUInt32LE(magic, 0);
  let last = after;
  let offset = 0;
  let damagedFrom = -1;
  while (offset < buf.length) {
    const frame = frameAt(buf, offset, magic);
    if (frame && (magic !== SEGMENT_MAGIC || last === null || frame.seq > last)) {
      if (damagedFrom >= 0) damage.push({ offset: damagedFrom, bytes: offset - damagedFrom });
      damagedFrom = -1;
      frames.push(frame);
      if (magic === SEGMENT_MAGIC) last = frame.seq;
      offset += frame.length;
    } else {
      if (damagedFrom < 0) damagedFrom = offset;
      const next = buf.indexOf(needle, offset + 1);
      offset = next < 0 ? buf.length : next;
    }
  }
  if (damagedFrom >= 0) damage.push({ offset: damagedFrom, bytes: buf.length - damagedFrom });
  return { frames, damage };
}

function parseJournalEntry(json: string): JournalEntry | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  const e = value as Partial<JournalEntry> | null;
  if (typeof e !== "object" || e === null || !Array.isArray(e.dead) || typeof e.dropped !== "number") return null;
  if (e.lastSeq !== null && typeof e.lastSeq !== "number") return null;
  if (!e.dead.every((r) => Array.isArray(r) && r.length === 2 && typeof r[0] === "number" && typeof r[1] === "number")) return null;
  return { dead: e.dead, dropped: e.dropped, lastSeq: e.lastSeq ?? null };
}

/** Inclusive ranges of consecutive seqs, from seqs in ascending order. */
function toRanges(seqs: number[]): [number, number][] {
  const ranges: [number, number][] = [];
  for (const seq of seqs) {
    const last = ranges[ranges.length - 1];
    if (last && seq === last[1] + 1) last[1] = seq;
    else ranges.push([seq, seq]);
  }
  return ranges;
}

function writeFully(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    const n = writeSync(fd, bytes, done, bytes.length - done);
    if (n <= 0) throw new Error("write returned 0 bytes");
    done += n;
  }
}

export class Spool {
  private readonly dir: string;
  private readonly journalPath: string;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly log: SpoolOptions["log"];
  private readonly syncIntervalMs: number;
  private readonly segmentBytes: number;

  private segments: Segment[] = [];
  private current: Segment | null = null;
  /** Live records by seq (pending and in flight). */
  private readonly bySeq = new Map<number, SpoolRecord>();
  /** Every record in seq order; dead ones are skipped and swept out now and then, `head` is the first maybe-live one. */
  private order: SpoolRecord[] = [];
  private head = 0;
  private lastSeq: number | null = null;
  private journaledLastSeq: number | null = null;
  private droppedCount = 0;
  /** Dropped by a bound while in flight: counted when released, forgiven when acknowledged. */
  private readonly droppedInFlight = new Set<number>();
  private segmentBytesOnDisk = 0;

  private journalFd: number | null = null;
  private journalBytes = 0;
  private journalDirty = false;
  private compactAt = COMPACT_MIN_BYTES;
  private dirDirty = false;
  private syncTimer: ReturnType<typeof setTimeout> | undefined;
  /** The last fdatasync started on each fd, so an fd is closed only after it (closing it could hand the number to a new file). */
  private readonly fdBusy = new Map<number, Promise<void>>();
  private readonly background = new Set<Promise<void>>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(opts: SpoolOptions) {
    this.dir = opts.dir;
    this.journalPath = join(opts.dir, JOURNAL);
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.now = opts.now ?? Date.now;
    this.log = opts.log;
    this.syncIntervalMs = opts.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
    this.segmentBytes = opts.segmentBytes ?? Math.min(MAX_SEGMENT_BYTES, Math.max(MIN_SEGMENT_BYTES, Math.floor(this.maxBytes / 16)));
    for (const [name, value] of Object.entries({ maxBytes: this.maxBytes, maxAgeMs: this.maxAgeMs, segmentBytes: this.segmentBytes })) {
      if (!(value > 0)) throw new Error(`spool ${name} must be positive, got ${value}`);
    }
    if (!(this.syncIntervalMs >= 0)) throw new Error(`spool syncIntervalMs must be 0 or more, got ${this.syncIntervalMs}`);
  }

  /** Opens (creating) the spool in opts.dir, repairing any damage a crash or the disk left behind. */
  static async open(opts: SpoolOptions): Promise<Spool> {
    const spool = new Spool(opts);
    try {
      spool.recover();
    } catch (err) {
      spool.closeFds();
      throw err;
    }
    return spool;
  }

  get pending(): number {
    return this.bySeq.size;
  }

  get bytes(): number {
    return this.segmentBytesOnDisk + this.journalBytes;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  nextSeq(): number {
    return this.lastSeq === null ? 0 : this.lastSeq + 1;
  }

  append(sample: Sample): Promise<void> {
    return this.exclusive(async () => {
      const seq = sample.seq;
      if (!Number.isSafeInteger(seq) || seq < 0) throw new Error(`spool: seq must be a non-negative integer, got ${seq}`);
      if (this.lastSeq !== null && seq <= this.lastSeq) {
        throw new Error(`spool: seq ${seq} is not above the last spooled seq ${this.lastSeq}`);
      }
      const parsed = Date.parse(sample.ts);
      const frame = encodeFrame(SEGMENT_MAGIC, seq, Number.isFinite(parsed) ? parsed : this.now(), JSON.stringify(sample));
      let segment = this.current;
      if (!segment || (segment.size > 0 && segment.size + frame.length > this.segmentBytes)) segment = this.rotate(seq);
      const fd = segment.fd!;
      try {
        writeFully(fd, frame);
      } catch (err) {
        // A partial frame would read as damage at the next open; cut it off now so later appends stay readable.
        try {
          ftruncateSync(fd, segment.size);
        } catch (truncateErr) {
          this.log?.warn("spool could not cut off a partly written record", { file: segment.path, error: errorCode(truncateErr) });
        }
        throw new Error(`failed to write seq ${seq} to ${segment.path}: ${errorCode(err)}`);
      }
      const record: SpoolRecord = { seq, ts: frame.readDoubleLE(20), offset: segment.size, length: frame.length, segment, state: PENDING };
      segment.records.push(record);
      segment.live++;
      segment.size += frame.length;
      segment.dirty = true;
      this.segmentBytesOnDisk += frame.length;
      this.order.push(record);
      this.bySeq.set(seq, record);
      this.lastSeq = seq;
      this.enforceBounds();
      await this.afterWrite();
    });
  }

  takeLive(max: number): Promise<Sample[]> {
    return this.exclusive(async () => {
      this.enforceBounds();
      const picked: SpoolRecord[] = [];
      while (this.order.length > this.head && this.order[this.order.length - 1]!.state === DEAD) this.order.pop();
      for (let i = this.order.length - 1; i >= this.head && picked.length < max; i--) {
        const record = this.order[i]!;
        if (record.state === PENDING) picked.push(record);
      }
      return this.load(picked.reverse());
    });
  }

  takeBacklog(max: number): Promise<Sample[]> {
    return this.exclusive(async () => {
      this.enforceBounds();
      const picked: SpoolRecord[] = [];
      this.skipDeadHead();
      for (let i = this.head; i < this.order.length && picked.length < max; i++) {
        const record = this.order[i]!;
        if (record.state === PENDING) picked.push(record);
      }
      return this.load(picked);
    });
  }

  ack(seqs: number[]): Promise<void> {
    return this.exclusive(async () => {
      const acked: SpoolRecord[] = [];
      for (const seq of seqs) {
        const record = this.bySeq.get(seq);
        if (record) {
          this.kill(record);
          acked.push(record);
        } else {
          this.droppedInFlight.delete(seq); // delivered after all: not a loss
        }
      }
      if (acked.length === 0) return;
      this.writeJournal(acked.map((r) => r.seq).sort((a, b) => a - b));
      this.reap();
      await this.afterWrite();
    });
  }

  release(seqs: number[]): void {
    if (this.closed) return; // a sender winding down after close has nothing left to put back
    let lost = 0;
    for (const seq of seqs) {
      const record = this.bySeq.get(seq);
      if (record?.state === IN_FLIGHT) record.state = PENDING;
      else if (!record && this.droppedInFlight.delete(seq)) lost++;
    }
    if (lost > 0) {
      this.droppedCount += lost;
      this.writeJournal([]);
      this.scheduleSync();
    }
  }

  /** Waits until everything written so far is on the disk (fdatasync), including directory changes. */
  async sync(): Promise<void> {
    if (this.closed) return;
    const mine: Promise<void>[] = [];
    const segment = this.current;
    // A failed sync leaves the flag set, so the next one tries again.
    if (segment?.fd != null && segment.dirty) {
      segment.dirty = false;
      mine.push(
        this.datasync(segment.fd, segment.path).catch((err: unknown) => {
          segment.dirty = true;
          throw err;
        }),
      );
    }
    if (this.journalFd !== null && this.journalDirty) {
      this.journalDirty = false;
      mine.push(
        this.datasync(this.journalFd, this.journalPath).catch((err: unknown) => {
          this.journalDirty = true;
          throw err;
        }),
      );
    }
    if (this.dirDirty) {
      this.dirDirty = false;
      mine.push(this.syncDir());
    }
    // Sealed segments sync in the background; wait for them too, but their failures were already logged.
    await Promise.allSettled([...this.background]);
    await Promise.all(mine);
  }

  close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) return;
      clearTimeout(this.syncTimer);
      this.syncTimer = undefined;
      if (this.droppedInFlight.size > 0) {
        // Their answer will never come now: count them as the losses they may be.
        this.droppedCount += this.droppedInFlight.size;
        this.droppedInFlight.clear();
        this.writeJournal([]);
      } else if (this.lastSeq !== this.journaledLastSeq) {
        this.writeJournal([]); // so a restart numbers on even if every segment is gone
      }
      const last = this.current;
      if (last) this.seal(last);
      await this.sync();
      this.reap();
      if (this.dirDirty) await this.syncDir();
      this.closed = true;
      this.closeFds();
      await Promise.allSettled([...this.background]);
    }, true);
  }

  // ---- internals ----

  /** Runs fn after every earlier operation settled, so a take never reads a segment an append is deleting. */
  private exclusive<T>(fn: () => Promise<T>, whenClosed = false): Promise<T> {
    const run = this.queue.then(() => {
      if (!whenClosed) this.checkOpen();
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`spool ${this.dir} is closed`);
  }

  private recover(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new Error(`failed to create spool directory ${this.dir}: ${errorCode(err)}`);
    }
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      throw new Error(`failed to list spool directory ${this.dir}: ${errorCode(err)}`);
    }
    for (const name of names) if (name.endsWith(".tmp")) this.unlink(join(this.dir, name)); // a repair or compaction a crash interrupted

    const dead = this.readJournal();

    const segmentFiles = names
      .map((name) => SEGMENT_NAME.exec(name)?.[1])
      .filter((first): first is string => first !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    let rangeIndex = 0;
    let highest: number | null = null;
    for (const firstSeq of segmentFiles) {
      const segment = this.readSegment(firstSeq, highest);
      if (!segment) continue;
      for (const record of segment.records) {
        while (rangeIndex < dead.length && dead[rangeIndex]![1] < record.seq) rangeIndex++;
        const range = dead[rangeIndex];
        if (range && range[0] <= record.seq) record.state = DEAD;
        else {
          segment.live++;
          this.bySeq.set(record.seq, record);
        }
        this.order.push(record);
      }
      highest = segment.records[segment.records.length - 1]!.seq;
      this.segments.push(segment);
      this.segmentBytesOnDisk += segment.size;
    }
    if (highest !== null && (this.lastSeq === null || highest > this.lastSeq)) this.lastSeq = highest;

    // The snapshot first, then deleting what it says is dead: a crash in between only leaves files the next open deletes.
    this.compact();
    this.reap();
    this.enforceBounds();
    if (this.dirDirty) this.syncDirSync();
    this.log?.info("spool opened", {
      dir: this.dir,
      pending: this.pending,
      bytes: this.bytes,
      segments: this.segments.length,
      dropped: this.droppedCount,
      nextSeq: this.nextSeq(),
    });
  }

  /** Replays the journal: sets the counters and returns the dead ranges, sorted and merged. */
  private readJournal(): [number, number][] {
    let buf: Buffer;
    try {
      buf = readFileSync(this.journalPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new Error(`failed to read spool journal ${this.journalPath}: ${errorCode(err)}`);
    }
    const { frames, damage } = scanFrames(buf, JOURNAL_MAGIC, null);
    for (const d of damage) {
      this.log?.warn(
        `spool journal damaged: dropped ${d.bytes} bytes at offset ${d.offset} of ${this.journalPath}; acks recorded there are lost, so those samples will be sent again`,
        { file: this.journalPath, offset: d.offset, bytes: d.bytes },
      );
    }
    const ranges: [number, number][] = [];
    for (const frame of frames) {
      const entry = parseJournalEntry(buf.toString("utf8", frame.offset + HEADER_BYTES, frame.offset + frame.length));
      if (!entry) {
        this.log?.warn(`spool journal entry at offset ${frame.offset} of ${this.journalPath} is not a journal entry; skipped`, {
          file: this.journalPath,
          offset: frame.offset,
        });
        continue;
      }
      ranges.push(...entry.dead);
      this.droppedCount = Math.max(this.droppedCount, entry.dropped);
      if (entry.lastSeq !== null && (this.lastSeq === null || entry.lastSeq > this.lastSeq)) this.lastSeq = entry.lastSeq;
    }
    this.journaledLastSeq = this.lastSeq;
    ranges.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const [from, to] of ranges) {
      const last = merged[merged.length - 1];
      if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
      else merged.push([from, to]);
    }
    return merged;
  }

  /** Indexes one segment file, repairing it if damaged; null when nothing in it is readable (the file is then gone). */
  private readSegment(firstSeq: number, after: number | null): Segment | null {
    const path = join(this.dir, segmentName(firstSeq));
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (err) {
      throw new Error(`failed to read spool segment ${path}: ${errorCode(err)}`);
    }
    const { frames, damage } = scanFrames(buf, SEGMENT_MAGIC, after);
    for (const d of damage) {
      this.log?.warn(
        `spool segment damaged: dropped ${d.bytes} bytes at offset ${d.offset} of ${path}, kept the intact records around them`,
        {
          file: path,
          offset: d.offset,
          bytes: d.bytes,
          keptRecords: frames.length,
        },
      );
    }
    if (frames.length === 0) {
      this.unlink(path);
      return null;
    }
    let size = buf.length;
    const tailOnly = damage.length === 1 && damage[0]!.offset + damage[0]!.bytes === buf.length;
    if (tailOnly) {
      // The usual crash: the last record torn. Cutting the file keeps every offset valid.
      size = damage[0]!.offset;
      this.repair(path, () => {
        const fd = openSync(path, "r+");
        try {
          ftruncateSync(fd, size);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      });
    } else if (damage.length > 0) {
      const kept = Buffer.concat(frames.map((f) => buf.subarray(f.offset, f.offset + f.length)));
      let offset = 0;
      for (const f of frames) {
        f.offset = offset;
        offset += f.length;
      }
      size = kept.length;
      this.repair(path, () => {
        const tmp = `${path}.tmp`;
        const fd = openSync(tmp, "w", 0o600);
        try {
          writeFully(fd, kept);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, path);
      });
    }
    const segment: Segment = { firstSeq, path, size, records: [], live: 0, fd: null, dirty: false };
    segment.records = frames.map((f) => ({ seq: f.seq, ts: f.ts, offset: f.offset, length: f.length, segment, state: PENDING }));
    return segment;
  }

  private repair(path: string, fn: () => void): void {
    try {
      fn();
      this.dirDirty = true;
    } catch (err) {
      throw new Error(`failed to repair spool segment ${path}: ${errorCode(err)}`);
    }
  }

  /** Seals the segment being appended to and starts a new one whose first record will be `firstSeq`. */
  private rotate(firstSeq: number): Segment {
    if (this.current) this.seal(this.current);
    const path = join(this.dir, segmentName(firstSeq));
    let fd: number;
    try {
      fd = openSync(path, "a", 0o600);
    } catch (err) {
      throw new Error(`failed to create spool segment ${path}: ${errorCode(err)}`);
    }
    const segment: Segment = { firstSeq, path, size: 0, records: [], live: 0, fd, dirty: false };
    this.segments.push(segment);
    this.current = segment;
    this.dirDirty = true;
    this.reap(); // the sealed one may have been wholly acknowledged already
    return segment;
  }

  private seal(segment: Segment): void {
    const fd = segment.fd;
    if (fd === null) return;
    segment.fd = null;
    if (this.current === segment) this.current = null;
    if (segment.dirty) {
      segment.dirty = false;
      this.datasync(fd, segment.path).catch((err: unknown) => this.log?.warn("spool fdatasync failed", { error: errorCode(err) }));
    }
    this.retire(fd);
  }

  private skipDeadHead(): void {
    while (this.head < this.order.length && this.order[this.head]!.state === DEAD) this.head++;
  }

  /** Takes a record out of the spool for good. `dropped` means a bound did it, not the head. */
  private kill(record: SpoolRecord, dropped = false): void {
    if (dropped) {
      if (record.state === IN_FLIGHT) this.droppedInFlight.add(record.seq);
      else this.droppedCount++;
    }
    record.state = DEAD;
    record.segment.live--;
    this.bySeq.delete(record.seq);
  }

  /** Drops the oldest samples while the spool is over its age or size bound, journals the drops, frees the space. */
  private enforceBounds(): void {
    const killed: SpoolRecord[] = [];
    const cutoff = this.now() - this.maxAgeMs;
    for (;;) {
      this.skipDeadHead();
      const oldest = this.order[this.head];
      if (!oldest || oldest.ts >= cutoff) break;
      this.kill(oldest, true);
      killed.push(oldest);
    }
    // Only whole segments free disk space; the newest is kept even when it alone is over the bound.
    let bytes = this.bytes;
    for (let i = 0; bytes > this.maxBytes && i < this.segments.length - 1; i++) {
      const segment = this.segments[i]!;
      for (const record of segment.records) {
        if (record.state === DEAD) continue;
        this.kill(record, true);
        killed.push(record);
      }
      bytes -= segment.size;
    }
    if (killed.length === 0) return;
    killed.sort((a, b) => a.seq - b.seq);
    this.writeJournal(killed.map((r) => r.seq));
    this.log?.warn(
      `spool over its bound: dropped the ${killed.length} oldest samples, seq ${killed[0]!.seq} to ${killed[killed.length - 1]!.seq}`,
      {
        dir: this.dir,
        samples: killed.length,
        inFlight: killed.filter((r) => this.droppedInFlight.has(r.seq)).length,
        droppedTotal: this.droppedCount,
        bytes: this.bytes,
        maxBytes: this.maxBytes,
        maxAgeMs: this.maxAgeMs,
      },
    );
    this.reap();
  }

  /** Deletes sealed segments in which every record is dead. Their deaths are journaled already. */
  private reap(): void {
    const keep: Segment[] = [];
    for (const segment of this.segments) {
      if (segment.live > 0 || segment.fd !== null) {
        keep.push(segment);
        continue;
      }
      this.unlink(segment.path);
      this.segmentBytesOnDisk -= segment.size;
    }
    this.segments = keep;
    if (this.order.length - this.head > 2 * this.bySeq.size + 1024) {
      this.order = this.order.filter((r) => r.state !== DEAD);
      this.head = 0;
    }
  }

  private unlink(path: string): void {
    try {
      unlinkSync(path);
      this.dirDirty = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT")
        this.log?.warn("spool could not delete a file", { file: path, error: errorCode(err) });
    }
  }

  /** Reads taken records back from their segments; a record that no longer reads back is logged and forgotten. */
  private async load(records: SpoolRecord[]): Promise<Sample[]> {
    for (const record of records) record.state = IN_FLIGHT;
    const samples: Sample[] = [];
    const lost: SpoolRecord[] = [];
    for (let i = 0; i < records.length; ) {
      // One read per run of records that lie close together in one segment.
      const first = records[i]!;
      let j = i + 1;
      while (j < records.length) {
        const prev = records[j - 1]!;
        const next = records[j]!;
        if (next.segment !== first.segment || next.offset - (prev.offset + prev.length) > READ_GAP_BYTES) break;
        j++;
      }
      const run = records.slice(i, j);
      i = j;
      const start = first.offset;
      const last = run[run.length - 1]!;
      let buf: Buffer;
      try {
        const bytes = await Bun.file(first.segment.path)
          .slice(start, last.offset + last.length)
          .bytes();
        buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (err) {
        this.log?.warn(`failed to read spool segment ${first.segment.path}: ${errorCode(err)}; its ${run.length} taken samples are lost`, {
          file: first.segment.path,
          fromSeq: first.seq,
        });
        lost.push(...run);
        continue;
      }
      for (const record of run) {
        const at = record.offset - start;
        const frame = frameAt(buf, at, SEGMENT_MAGIC);
        if (!frame || frame.seq !== record.seq || frame.length !== record.length) {
          this.log?.warn(
            `spool record seq ${record.seq} at offset ${record.offset} of ${record.segment.path} no longer reads back; it is lost`,
            {
              file: record.segment.path,
              offset: record.offset,
              seq: record.seq,
            },
          );
          lost.push(record);
          continue;
        }
        samples.push(JSON.parse(buf.toString("utf8", at + HEADER_BYTES, at + record.length)) as Sample);
      }
    }
    if (lost.length > 0) {
      for (const record of lost) this.kill(record);
      this.writeJournal(lost.map((r) => r.seq).sort((a, b) => a - b));
      this.reap();
      this.scheduleSync();
    }
    return samples;
  }

  /** Appends a journal entry killing `dead` (ascending seqs) with the current totals. */
  private writeJournal(dead: number[]): void {
    const entry: JournalEntry = { dead: toRanges(dead), dropped: this.droppedCount, lastSeq: this.lastSeq };
    const frame = encodeFrame(JOURNAL_MAGIC, 0, this.now(), JSON.stringify(entry));
    try {
      writeFully(this.journalFd!, frame);
    } catch (err) {
      throw new Error(`failed to write spool journal ${this.journalPath}: ${errorCode(err)}`);
    }
    this.journalBytes += frame.length;
    this.journalDirty = true;
    this.journaledLastSeq = this.lastSeq;
    if (this.journalBytes > this.compactAt) {
      try {
        this.compact();
      } catch (err) {
        // The appended journal is still whole; try again after it has grown as much again.
        this.compactAt = this.journalBytes * 2;
        this.log?.warn("spool journal compaction failed", { file: this.journalPath, error: (err as Error).message });
      }
    }
  }

  /** Rewrites the journal as one entry: the dead records of segments still on disk, and the totals. */
  private compact(): void {
    const dead: [number, number][] = [];
    for (const segment of this.segments) {
      if (segment.live === segment.records.length) continue;
      dead.push(...toRanges(segment.records.filter((r) => r.state === DEAD).map((r) => r.seq)));
    }
    const entry: JournalEntry = { dead, dropped: this.droppedCount, lastSeq: this.lastSeq };
    const frame = encodeFrame(JOURNAL_MAGIC, 0, this.now(), JSON.stringify(entry));
    const tmp = `${this.journalPath}.tmp`;
    try {
      const fd = openSync(tmp, "w", 0o600);
      try {
        writeFully(fd, frame);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.journalPath);
      this.syncDirSync();
      if (this.journalFd !== null) this.retire(this.journalFd);
      this.journalFd = null;
      this.journalFd = openSync(this.journalPath, "a", 0o600);
    } catch (err) {
      throw new Error(`failed to compact spool journal ${this.journalPath}: ${errorCode(err)}`);
    }
    this.journalBytes = frame.length;
    this.journalDirty = false;
    this.journaledLastSeq = this.lastSeq;
    this.compactAt = Math.max(COMPACT_MIN_BYTES, frame.length * 4);
  }

  private async afterWrite(): Promise<void> {
    if (this.syncIntervalMs === 0) await this.sync();
    else this.scheduleSync();
  }

  private scheduleSync(): void {
    if (this.syncTimer !== undefined || this.syncIntervalMs === 0) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      this.sync().catch((err: unknown) => this.log?.warn("spool fdatasync failed", { dir: this.dir, error: (err as Error).message }));
    }, this.syncIntervalMs);
    // A pending sync must not keep the agent alive; the data is in the page cache, which outlives the process.
    this.syncTimer.unref?.();
  }

  private datasync(fd: number, path: string): Promise<void> {
    const prior = this.fdBusy.get(fd) ?? Promise.resolve();
    const done = prior.then(
      () =>
        new Promise<void>((resolve, reject) =>
          fdatasync(fd, (err) => (err ? reject(new Error(`failed to fdatasync ${path}: ${err.code ?? err.message}`)) : resolve())),
        ),
    );
    const settled = done.catch(() => undefined);
    this.fdBusy.set(fd, settled);
    this.background.add(settled);
    void settled.then(() => {
      this.background.delete(settled);
      if (this.fdBusy.get(fd) === settled) this.fdBusy.delete(fd);
    });
    return done;
  }

  /** Closes an fd once the fdatasync running on it is done. */
  private retire(fd: number): void {
    const busy = this.fdBusy.get(fd);
    if (!busy) {
      closeSync(fd);
      return;
    }
    this.fdBusy.delete(fd);
    const closing = busy.then(() => closeSync(fd));
    this.background.add(closing);
    void closing.finally(() => this.background.delete(closing));
  }

  private async syncDir(): Promise<void> {
    const fd = openSync(this.dir, "r");
    try {
      await new Promise<void>((resolve, reject) =>
        fsync(fd, (err) =>
          err ? reject(new Error(`failed to fsync spool directory ${this.dir}: ${err.code ?? err.message}`)) : resolve(),
        ),
      );
    } finally {
      closeSync(fd);
    }
  }

  private syncDirSync(): void {
    const fd = openSync(this.dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.dirDirty = false;
  }

  private closeFds(): void {
    if (this.current?.fd != null) this.seal(this.current);
    if (this.journalFd !== null) this.retire(this.journalFd);
    this.journalFd = null;
  }
}

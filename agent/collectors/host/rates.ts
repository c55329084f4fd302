// Turns two readings of cumulative per-device byte counters into bytes per second.

/** Two cumulative byte counters per device, e.g. [read, written] or [received, transmitted]. */
export type DeviceCounters = ReadonlyMap<string, readonly [number, number]>;

export type CounterReading = { readonly atMs: number; readonly counters: DeviceCounters };

/**
 * Sums per-device deltas rather than deltas of sums, so a device that appears, disappears or has
 * its counter reset (hot-plug, driver reload, 32-bit wrap) drops out of one interval instead of
 * producing a huge or negative total. Null when no device could be measured over the interval.
 */
export function bytesPerSecond(prev: CounterReading, cur: CounterReading): [number, number] | null {
  const seconds = (cur.atMs - prev.atMs) / 1000;
  if (!(seconds > 0)) return null;
  let first = 0;
  let second = 0;
  let measured = 0;
  for (const [device, [a, b]] of cur.counters) {
    const before = prev.counters.get(device);
    if (!before || a < before[0] || b < before[1]) continue;
    first += a - before[0];
    second += b - before[1];
    measured++;
  }
  if (measured === 0) return null;
  return [first / seconds, second / seconds];
}

// Seeded randomness for the simulator: the same worker name gives the same hardware and jobs on every run.

/** FNV-1a of a string: a stable seed from a worker's name. */
export function hash(s: string): number {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** mulberry32: small, fast and good enough for synthetic vitals; returns floats in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hex digits derived from a key, for ids that must look real (GPU UUIDs, container ids) and stay stable. */
export function hexOf(key: string, digits: number): string {
  let out = "";
  for (let i = 0; out.length < digits; i++) out += hash(`${key}#${i}`).toString(16).padStart(8, "0");
  return out.slice(0, digits);
}

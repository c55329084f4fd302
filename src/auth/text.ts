// Validation of free-text fields people type (names of users and tokens): any printable text, bounded.
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

/** Names may be any printable text up to 64 KiB; they are data, escaped wherever shown. */
export const MAX_NAME_CHARS = 65_536;

// Control and bidirectional-override characters would make logs, terminals and pages show
// something other than what was stored.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

export function cleanName(raw: unknown, what: string): string {
  if (typeof raw !== "string") throw new InputError(`${what} is required`);
  const v = raw.trim();
  if (v === "") throw new InputError(`${what} is required`);
  if (v.length > MAX_NAME_CHARS) throw new InputError(`${what} is too long (at most ${MAX_NAME_CHARS} characters)`);
  if (CONTROL.test(v)) throw new InputError(`${what} may not contain control or text-direction characters`);
  return v;
}

/** A short form for log lines and one-line messages; the full text stays in the database. */
export function clip(text: string, max = 80): string {
  if (text.length <= max) return text;
  // By code point, so an emoji is never cut in half.
  const points = Array.from(text);
  return points.length <= max ? text : `${points.slice(0, max).join("")}… (${points.length} chars)`;
}

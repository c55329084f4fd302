// Validation of free-text fields people type (names of users and tokens): any printable text, bounded.
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

/** Names may be any printable text up to 64 KiB; they are data, escaped wherever shown. */
export const MAX_NAME_CHARS = 65_536;

// Control characters (other than none) would make logs and terminals lie about what was stored.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function cleanName(raw: unknown, what: string): string {
  if (typeof raw !== "string") throw new InputError(`${what} is required`);
  const v = raw.trim();
  if (v === "") throw new InputError(`${what} is required`);
  if (v.length > MAX_NAME_CHARS) throw new InputError(`${what} is too long (at most ${MAX_NAME_CHARS} characters)`);
  if (CONTROL.test(v)) throw new InputError(`${what} may not contain control characters`);
  return v;
}

/** A short form for log lines and one-line messages; the full text stays in the database. */
export function clip(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} chars)`;
}

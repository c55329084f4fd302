// Which systemd units this agent will restart: the allow-list (VIGIL_RESTART_ALLOW or a file) checked against systemd's unit-name rules.
import { readFileSync } from "node:fs";

/**
 * The unit types systemd knows (unit_type_from_string in systemd's src/basic/unit-def.c). A name must
 * end in one of them: systemctl would otherwise append ".service" itself, and "comfyui" would then
 * reach a unit the allow-list never named.
 */
export const UNIT_TYPES = [
  "service",
  "socket",
  "target",
  "device",
  "mount",
  "automount",
  "swap",
  "timer",
  "path",
  "slice",
  "scope",
] as const;

/** systemd's UNIT_NAME_MAX is 256 including the terminating NUL. */
export const UNIT_NAME_MAX = 255;

/** One character for a message: visible even when it is a control character, a space or a lookalike letter. */
function describeChar(c: string): string {
  const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  if (c === " ") return "a space";
  if (/\s/.test(c)) return `whitespace (${code})`;
  if (/\p{C}/u.test(c)) return `a control character (${code})`;
  return c.charCodeAt(0) < 0x80 ? JSON.stringify(c) : `${JSON.stringify(c)} (${code}, not ASCII)`;
}

/**
 * Why `name` is not a unit name systemd would accept for a restart, or null when it is.
 *
 * systemd.unit(5) and unit_name_is_valid(): ASCII letters, digits, ":", "-", "_", ".", "\" and "@";
 * at most 255 characters; a known type suffix after the last "."; "@" starts a template instance.
 * Stricter than systemd in two ways, both on purpose: no leading "-" (it would read as an option of
 * systemctl; this only excludes the root units "-.mount" and "-.slice"), and no template without an
 * instance ("foo@.service" cannot be restarted, only "foo@1.service" can).
 */
export function unitNameProblem(name: string): string | null {
  if (name === "") return "the name is empty";
  // Checked before the length so that a lookalike letter is named as such; by code point, so that a
  // surrogate pair is reported as one character.
  for (const c of name) {
    if (!/^[A-Za-z0-9:_.\\@-]$/.test(c))
      return `it contains ${describeChar(c)}; a unit name has only ASCII letters, digits and : - _ . \\ @`;
  }
  if (name.length > UNIT_NAME_MAX) return `it is ${name.length} characters long; systemd allows at most ${UNIT_NAME_MAX}`;
  if (name.startsWith("-")) return 'it starts with "-", which systemctl would read as an option';
  const dot = name.lastIndexOf(".");
  if (dot === -1) return `it has no unit type suffix such as .service (one of .${UNIT_TYPES.join(", .")})`;
  if (dot === 0) return "it has nothing before the unit type suffix";
  const type = name.slice(dot + 1);
  if (!(UNIT_TYPES as readonly string[]).includes(type)) return `".${type}" is not a unit type (one of .${UNIT_TYPES.join(", .")})`;
  const at = name.indexOf("@");
  if (at === 0) return 'it has nothing before "@"';
  if (at !== -1 && at === dot - 1)
    return `it is a template; only an instance of it (such as ${name.slice(0, at)}@1.${type}) can be restarted`;
  return null;
}

export function isValidUnitName(name: string): boolean {
  return unitNameProblem(name) === null;
}

/**
 * The units of an allow-list text: entries separated by commas or newlines (the value of
 * VIGIL_RESTART_ALLOW, or a file with one unit per line), "#" starts a comment, blank entries are
 * skipped, duplicates kept once. Throws on an entry that is not a valid unit name, naming it: a typo
 * here should stop the agent at start-up, not surface as refused restarts weeks later.
 */
export function parseAllowList(text: string): string[] {
  const units: string[] = [];
  for (const line of text.split("\n")) {
    const hash = line.indexOf("#");
    // "#" is never part of a unit name, so cutting at the first one cannot shorten an entry.
    const content = hash === -1 ? line : line.slice(0, hash);
    for (const entry of content.split(",")) {
      const unit = entry.trim();
      if (unit === "") continue;
      const problem = unitNameProblem(unit);
      if (problem) throw new Error(`restart allow-list: ${JSON.stringify(unit)} is not a valid unit name: ${problem}`);
      if (!units.includes(unit)) units.push(unit);
    }
  }
  return units;
}

/**
 * The allow-list from both sources an operator may use: `env` (the value of VIGIL_RESTART_ALLOW) and
 * `file` (a path the caller resolved), joined. A file that was named but cannot be read is an error.
 */
export function loadAllowList(sources: { env?: string; file?: string }): string[] {
  const units = parseAllowList(sources.env ?? "");
  if (sources.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(sources.file, "utf8");
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new Error(`failed to read the restart allow-list ${sources.file}: ${e.code ?? e.message}`);
    }
    let fromFile: string[];
    try {
      fromFile = parseAllowList(text);
    } catch (err) {
      throw new Error(`${sources.file}: ${(err as Error).message}`);
    }
    for (const unit of fromFile) if (!units.includes(unit)) units.push(unit);
  }
  return units;
}

/**
 * Why a restart of `unit` is refused, or null when it may go ahead: the name must be valid and equal,
 * character for character, to an entry of `allow`. No case folding, no suffix completion, no
 * normalisation: anything the operator did not write down is refused.
 */
export function restartRefusal(unit: string, allow: readonly string[]): string | null {
  // The type says string; a command that skipped schema validation must still not throw here.
  if (typeof unit !== "string") return "the service name is not a string";
  const shown = JSON.stringify(unit);
  if (allow.length === 0) return "this agent allows no restarts: its allow-list (VIGIL_RESTART_ALLOW) is empty";
  const problem = unitNameProblem(unit);
  if (problem) {
    const hint = allow.includes(`${unit}.service`) ? ` (did you mean ${unit}.service?)` : "";
    return `${shown} is not a valid unit name: ${problem}${hint}`;
  }
  if (!allow.includes(unit)) return `${shown} is not on this agent's restart allow-list`;
  return null;
}

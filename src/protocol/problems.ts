// Readable problems with a settings object checked against its TypeBox schema (a channel's or a check's config), one per field.
import type { TSchema } from "@sinclair/typebox";
import { Value, type ValueError } from "@sinclair/typebox/value";

/** "/to/0" → "to[0]", "/headers/X-Token" → "headers.X-Token": the field as the form shows it. */
function fieldOf(path: string): string {
  const parts = path.split("/").slice(1);
  return parts.reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), "") || "config";
}

function describe(e: ValueError, owner: string): string {
  const field = fieldOf(e.path);
  const schema = e.schema as { anyOf?: { const?: unknown }[]; pattern?: string };
  // TypeBox's own wording for the common cases reads like a stack trace to an operator.
  if (e.message === "Expected required property") return `${field} is required`;
  if (e.message === "Unexpected property") return `${field} is not a setting of this ${owner}`;
  if (schema.anyOf?.every((s) => s.const !== undefined))
    return `${field} must be one of ${schema.anyOf.map((s) => JSON.stringify(s.const)).join(", ")}`;
  if (typeof schema.pattern === "string" && typeof e.value === "string") return `${field} must match ${schema.pattern}`;
  return `${field}: ${e.message.charAt(0).toLowerCase()}${e.message.slice(1)}`;
}

/** Empty when `value` fits `schema`; `owner` names what the settings belong to ("channel", "check"). */
export function settingsProblems(schema: TSchema, value: unknown, owner: string): string[] {
  const problems = new Map<string, string>();
  for (const e of Value.Errors(schema, value)) {
    // A missing field is also "not a string": the first complaint per field is the useful one.
    if (!problems.has(e.path)) problems.set(e.path, describe(e, owner));
  }
  return [...problems.values()];
}

// Forms built from a TypeBox schema: each property a field, a stored config as form text, a posted form parsed back into a config.
import { InputError } from "../../src/auth/text.ts";

/** How a schema property is typed into the form. */
export type FieldInput = "text" | "url" | "password" | "number" | "checkbox" | "list" | "lines" | "select";

export interface SchemaField {
  /** The config key ("url", "headers"). */
  key: string;
  /** The form field's name: `<kind>.<key>`, so every kind's fieldset can sit in one form without clashing. */
  name: string;
  input: FieldInput;
  required: boolean;
  /** Shown back masked, never as a placeholder, and kept untrimmed (a space may be part of a password). */
  secret: boolean;
  description: string;
  placeholder: string;
  choices: string[];
  min?: number;
  max?: number;
  integer: boolean;
  /** A checkbox whose schema default is true: unticked must be sent as false, since leaving it out would mean true. */
  defaultOn: boolean;
}

/** One kind's settings (a notifier's, a checker's): the fieldset the form shows for it. */
export interface KindForm {
  kind: string;
  label: string;
  /** The schema's own description, if any. */
  description: string;
  fields: SchemaField[];
}

/** The bits of JSON Schema a TypeBox property carries that the form reads. */
interface PropertySchema {
  type?: string;
  pattern?: string;
  description?: string;
  examples?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  anyOf?: { const?: unknown }[];
  patternProperties?: Record<string, unknown>;
}

interface ObjectSchema {
  properties?: Record<string, PropertySchema>;
  required?: string[];
  description?: string;
}

/** A record as the form writes it: one "Name: value" line each. */
const recordLines = (r: object): string =>
  Object.entries(r)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join("\n");

function placeholderOf(example: unknown): string {
  if (example === undefined || example === null) return "";
  if (Array.isArray(example)) return example.map(String).join(", ");
  if (typeof example === "object") return recordLines(example);
  return String(example);
}

function fieldOf(kind: string, key: string, p: PropertySchema, required: boolean, secret: boolean): SchemaField {
  const choices = p.anyOf?.every((s) => s.const !== undefined) ? p.anyOf.map((s) => String(s.const)) : [];
  let input: FieldInput;
  if (choices.length) input = "select";
  else if (p.type === "integer" || p.type === "number") input = "number";
  else if (p.type === "boolean") input = "checkbox";
  else if (p.type === "array") input = "list";
  else if (p.type === "object" || p.patternProperties) input = "lines";
  else if (secret) input = "password";
  else if (p.pattern?.startsWith("^https?://")) input = "url";
  // Strings, and unions of scalars (an HTTP check's jsonEquals: the checker compares "true" with true).
  else input = "text";
  return {
    key,
    name: `${kind}.${key}`,
    input,
    required,
    secret,
    description: p.description ?? "",
    placeholder: secret ? "" : placeholderOf(p.examples?.[0]),
    choices,
    min: p.minimum,
    max: p.maximum,
    integer: p.type === "integer",
    defaultOn: input === "checkbox" && p.default === true,
  };
}

/** A kind's form from its config schema (a TypeBox `t.Object`); `secrets` names the keys never shown back in clear. */
export function kindForm(kind: string, label: string, schema: unknown, secrets: readonly string[] = []): KindForm {
  const s = schema as ObjectSchema;
  const required = new Set(s.required ?? []);
  return {
    kind,
    label,
    description: s.description ?? "",
    fields: Object.entries(s.properties ?? {}).map(([key, p]) => fieldOf(kind, key, p, required.has(key), secrets.includes(key))),
  };
}

/** Form text per field name for a stored (or masked) config: lists comma-separated, records as "Name: value" lines, booleans as a checkbox. */
export function configToForm(form: KindForm | undefined, config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of form?.fields ?? []) {
    const v = config[f.key];
    if (v === undefined || v === null) continue;
    if (f.input === "list" && Array.isArray(v)) out[f.name] = v.map(String).join(", ");
    else if (f.input === "lines" && typeof v === "object") out[f.name] = recordLines(v);
    else if (f.input === "checkbox") out[f.name] = v === true ? "on" : "";
    else out[f.name] = String(v);
  }
  return out;
}

/**
 * The config a form describes, for one kind (other kinds' fieldsets are ignored). An empty field, or an unticked box, is left
 * out so an optional setting falls back to its default and a required one is reported missing by the schema check; numbers
 * that do not parse stay text so that check names them. A record line that is not "Name: value" is an InputError naming it.
 */
export function configFromForm(form: KindForm | undefined, read: (name: string) => string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of form?.fields ?? []) {
    const raw = read(f.name);
    if (f.input === "checkbox") {
      if (raw === "on") out[f.key] = true;
      else if (f.defaultOn) out[f.key] = false;
      continue;
    }
    const text = f.secret && f.input === "password" ? raw : raw.trim();
    if (text === "") continue;
    if (f.input === "number") {
      const n = Number(text);
      out[f.key] = Number.isFinite(n) ? n : text;
    } else if (f.input === "list") {
      out[f.key] = text
        .split(/[,\n]/)
        .map((s) => s.trim())
        .filter(Boolean);
    } else if (f.input === "lines") {
      const record: Record<string, string> = {};
      text.split(/\r?\n/).forEach((line, i) => {
        if (line.trim() === "") return;
        const colon = line.indexOf(":");
        if (colon < 1) throw new InputError(`${f.key}: line ${i + 1} should read "Name: value"`);
        record[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      });
      out[f.key] = record;
    } else out[f.key] = text;
  }
  return out;
}

/** Whether any secret field was typed into, not just left showing `mask` (a rejected form does not show typed secrets back). */
export function typedSecrets(form: KindForm | undefined, read: (name: string) => string, mask: string): boolean {
  return (form?.fields ?? []).some((f) => f.secret && read(f.name) !== "" && read(f.name) !== mask);
}

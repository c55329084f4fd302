// A channel's config as form fields: read from each notifier's TypeBox schema, filled from a stored config, parsed back from a form.
import { InputError } from "../../../src/auth/text.ts";
import { isChannelKind, NOTIFIERS, notifierOf, SECRET_MASK } from "../../../src/notifiers/registry.ts";

/** How a schema property is typed into the form. */
export type FieldInput = "text" | "url" | "password" | "number" | "checkbox" | "list" | "lines" | "select";

export interface ConfigField {
  /** The config key ("url", "headers"). */
  key: string;
  /** The form field's name: `<kind>.<key>`, so every kind's fieldset can sit in one form without clashing. */
  name: string;
  input: FieldInput;
  required: boolean;
  secret: boolean;
  description: string;
  placeholder: string;
  choices: string[];
  min?: number;
  max?: number;
  integer: boolean;
}

export interface ChannelKindForm {
  kind: string;
  label: string;
  description: string;
  fields: ConfigField[];
}

/** The bits of JSON Schema a TypeBox property carries that the form reads. */
interface PropertySchema {
  type?: string;
  pattern?: string;
  description?: string;
  examples?: unknown[];
  minimum?: number;
  maximum?: number;
  anyOf?: { const?: unknown }[];
  items?: { type?: string };
  patternProperties?: Record<string, unknown>;
}

function placeholderOf(example: unknown): string {
  if (example === undefined || example === null) return "";
  if (Array.isArray(example)) return example.map(String).join(", ");
  if (typeof example === "object")
    return Object.entries(example)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join("\n");
  return String(example);
}

function fieldOf(kind: string, key: string, p: PropertySchema, required: boolean, secret: boolean): ConfigField {
  const choices = p.anyOf?.every((s) => s.const !== undefined) ? p.anyOf.map((s) => String(s.const)) : [];
  let input: FieldInput;
  if (choices.length) input = "select";
  else if (p.type === "integer" || p.type === "number") input = "number";
  else if (p.type === "boolean") input = "checkbox";
  else if (p.type === "array") input = "list";
  else if (p.type === "object" || p.patternProperties) input = "lines";
  else if (secret) input = "password";
  else if (p.pattern?.startsWith("^https?://")) input = "url";
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
  };
}

/** Every kind's fields, in the registry's order (the order the form offers them). */
export const CHANNEL_FORMS: readonly ChannelKindForm[] = NOTIFIERS.map((n) => {
  const schema = n.schema as unknown as { properties?: Record<string, PropertySchema>; required?: string[]; description?: string };
  const required = new Set(schema.required ?? []);
  return {
    kind: n.kind,
    label: n.label,
    description: schema.description ?? "",
    fields: Object.entries(schema.properties ?? {}).map(([key, p]) => fieldOf(n.kind, key, p, required.has(key), n.secrets.includes(key))),
  };
});

export function channelForm(kind: string): ChannelKindForm | undefined {
  return CHANNEL_FORMS.find((f) => f.kind === kind);
}

export function kindLabel(kind: string): string {
  return isChannelKind(kind) ? notifierOf(kind).label : kind;
}

/** Form text per field name for a (masked) config: lists comma-separated, records as "Name: value" lines. */
export function configToForm(kind: string, config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of channelForm(kind)?.fields ?? []) {
    const v = config[f.key];
    if (v === undefined || v === null) continue;
    if (f.input === "list" && Array.isArray(v)) out[f.name] = v.map(String).join(", ");
    else if (f.input === "lines" && typeof v === "object")
      out[f.name] = Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${k}: ${String(x)}`)
        .join("\n");
    else if (f.input === "checkbox") out[f.name] = v === true ? "on" : "";
    else out[f.name] = String(v);
  }
  return out;
}

/**
 * The config a form describes, for the chosen kind only (other kinds' fieldsets are ignored). An
 * empty field is left out, so an optional setting falls back to its default and a required one is
 * reported missing by the schema check; numbers that do not parse stay text so that check names them.
 */
export function configFromForm(kind: string, form: (name: string) => string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of channelForm(kind)?.fields ?? []) {
    const raw = form(f.name);
    // Secrets are kept as typed: a space may be part of a password.
    const text = f.secret && f.input === "password" ? raw : raw.trim();
    if (f.input === "checkbox") {
      out[f.key] = raw === "on";
      continue;
    }
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

/** Whether any secret field of the kind was typed into (a new channel's form does not show secrets back after an error). */
export function typedSecrets(kind: string, form: (name: string) => string): boolean {
  return (channelForm(kind)?.fields ?? []).some((f) => f.secret && form(f.name) !== "" && form(f.name) !== SECRET_MASK);
}

export { SECRET_MASK };

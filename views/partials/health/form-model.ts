// A service's add and edit form as data: each check kind's config fields read from its TypeBox schema, filled from a stored service, parsed back into saveService's input.
import { InputError } from "../../../src/auth/text.ts";
import { CHECKERS } from "../../../src/checks/registry.ts";
import type { ServiceRow } from "../../../src/health/loop.ts";

/** How a schema property is typed into the form. */
export type FieldInput = "text" | "url" | "number" | "checkbox" | "lines" | "select";

export interface ConfigField {
  /** The config key ("url", "headers"). */
  key: string;
  /** The form field's name: `<kind>.<key>`, so every kind's fieldset can sit in one form without clashing. */
  name: string;
  input: FieldInput;
  required: boolean;
  description: string;
  placeholder: string;
  choices: string[];
  min?: number;
  max?: number;
  integer: boolean;
}

export interface CheckKindForm {
  kind: string;
  label: string;
  needsWorker: boolean;
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
  patternProperties?: Record<string, unknown>;
}

function placeholderOf(example: unknown): string {
  if (example === undefined || example === null) return "";
  if (typeof example === "object")
    return Object.entries(example)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join("\n");
  return String(example);
}

function fieldOf(kind: string, key: string, p: PropertySchema, required: boolean): ConfigField {
  const choices = p.anyOf?.every((s) => s.const !== undefined) ? p.anyOf.map((s) => String(s.const)) : [];
  let input: FieldInput;
  if (choices.length) input = "select";
  else if (p.type === "integer" || p.type === "number") input = "number";
  else if (p.type === "boolean") input = "checkbox";
  else if (p.type === "object" || p.patternProperties) input = "lines";
  else if (p.pattern?.startsWith("^https?://")) input = "url";
  // Strings, and unions of scalars (an HTTP check's jsonEquals: the checker compares "true" with true).
  else input = "text";
  return {
    key,
    name: `${kind}.${key}`,
    input,
    required,
    description: p.description ?? "",
    placeholder: placeholderOf(p.examples?.[0]),
    choices,
    min: p.minimum,
    max: p.maximum,
    integer: p.type === "integer",
  };
}

/** Every kind's fields, in the registry's order (the order the form offers them). */
export const CHECK_FORMS: readonly CheckKindForm[] = CHECKERS.map((c) => {
  const schema = c.schema as unknown as { properties?: Record<string, PropertySchema>; required?: string[] };
  const required = new Set(schema.required ?? []);
  return {
    kind: c.kind,
    label: c.label,
    needsWorker: c.needsWorker,
    fields: Object.entries(schema.properties ?? {}).map(([key, p]) => fieldOf(c.kind, key, p, required.has(key))),
  };
});

export function checkForm(kind: string): CheckKindForm | undefined {
  return CHECK_FORMS.find((f) => f.kind === kind);
}

export function checkKindLabel(kind: string): string {
  return checkForm(kind)?.label ?? kind;
}

/** The service form as typed: every value a string (a checkbox "on" or ""), `config` keyed by field name (`http.url`). */
export interface ServiceFormValues {
  name: string;
  kind: string;
  workerId: string;
  intervalSeconds: string;
  timeoutSeconds: string;
  degradedLatencyMs: string;
  critical: boolean;
  escalationSeconds: string;
  /** One absolute path per line. */
  requiredFiles: string;
  logSource: string;
  enabled: boolean;
  config: Record<string, string>;
}

export const NEW_SERVICE: ServiceFormValues = {
  name: "",
  kind: "http",
  workerId: "",
  intervalSeconds: "30",
  timeoutSeconds: "10",
  degradedLatencyMs: "",
  critical: false,
  escalationSeconds: "300",
  requiredFiles: "",
  logSource: "",
  enabled: true,
  config: {},
};

/** Form text per field name for a stored config: records as "Name: value" lines, booleans as a checkbox. */
export function configToForm(kind: string, config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of checkForm(kind)?.fields ?? []) {
    const v = config[f.key];
    if (v === undefined || v === null) continue;
    if (f.input === "lines" && typeof v === "object")
      out[f.name] = Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${k}: ${String(x)}`)
        .join("\n");
    else if (f.input === "checkbox") out[f.name] = v === true ? "on" : "";
    else out[f.name] = String(v);
  }
  return out;
}

/** The edit form's values for a stored service. */
export function serviceFormValues(s: ServiceRow): ServiceFormValues {
  return {
    name: s.name,
    kind: s.kind,
    workerId: s.workerId === null ? "" : String(s.workerId),
    intervalSeconds: String(s.intervalSeconds),
    timeoutSeconds: String(s.timeoutSeconds),
    degradedLatencyMs: s.degradedLatencyMs === null ? "" : String(s.degradedLatencyMs),
    critical: s.critical,
    escalationSeconds: String(s.escalationSeconds),
    requiredFiles: s.requiredFiles.join("\n"),
    logSource: s.logSource ?? "",
    enabled: s.enabled,
    config: configToForm(s.kind, s.config),
  };
}

/** The form as posted: the top fields, and the chosen kind's config fields (other kinds' fieldsets are ignored). */
export function readServiceForm(field: (name: string) => string, kind?: string): ServiceFormValues {
  const k = kind ?? field("kind");
  const config: Record<string, string> = {};
  for (const f of checkForm(k)?.fields ?? []) config[f.name] = field(f.name);
  return {
    name: field("name"),
    kind: k,
    workerId: field("workerId"),
    intervalSeconds: field("intervalSeconds"),
    timeoutSeconds: field("timeoutSeconds"),
    degradedLatencyMs: field("degradedLatencyMs"),
    critical: field("critical") === "on",
    escalationSeconds: field("escalationSeconds"),
    requiredFiles: field("requiredFiles"),
    logSource: field("logSource"),
    enabled: field("enabled") === "on",
    config,
  };
}

/**
 * The config a form describes, for its kind. An empty field is left out, so an optional setting falls back to its
 * default and a required one is reported missing by the schema check; numbers that do not parse stay text so that
 * check names them.
 */
export function configFromForm(kind: string, values: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of checkForm(kind)?.fields ?? []) {
    const raw = values[f.name] ?? "";
    if (f.input === "checkbox") {
      if (raw === "on") out[f.key] = true;
      continue;
    }
    const text = raw.trim();
    if (text === "") continue;
    if (f.input === "number") {
      const n = Number(text);
      out[f.key] = Number.isFinite(n) ? n : text;
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

/** saveService's input from the form: empty numbers fall back to the service's current value or the default. */
export function serviceInput(v: ServiceFormValues): Record<string, unknown> {
  return {
    name: v.name,
    kind: v.kind,
    config: configFromForm(v.kind, v.config),
    workerId: v.workerId.trim() === "" ? null : v.workerId.trim(),
    intervalSeconds: v.intervalSeconds.trim(),
    timeoutSeconds: v.timeoutSeconds.trim(),
    degradedLatencyMs: v.degradedLatencyMs.trim(),
    critical: v.critical,
    escalationSeconds: v.escalationSeconds.trim(),
    requiredFiles: v.requiredFiles
      .split(/\r?\n/)
      .map((p) => p.trim())
      .filter(Boolean),
    logSource: v.logSource.trim(),
    enabled: v.enabled,
  };
}

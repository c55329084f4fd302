// A service's add and edit form as data: each check kind's settings as a schema form (views/components/schema-form.ts), filled from a stored service, parsed back into saveService's input.
import { CHECKERS } from "../../../src/checks/registry.ts";
import type { ServiceRow } from "../../../src/health/loop.ts";
import * as schemaForm from "../../components/schema-form.ts";

/** A check kind's settings, and whether it runs on a worker. */
export interface CheckKindForm extends schemaForm.KindForm {
  needsWorker: boolean;
}

/** Every kind's fields, in the registry's order (the order the form offers them). */
export const CHECK_FORMS: readonly CheckKindForm[] = CHECKERS.map((c) => ({
  ...schemaForm.kindForm(c.kind, c.label, c.schema),
  needsWorker: c.needsWorker,
}));

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
  /** Channel names, comma-separated; empty: every channel. */
  channels: string;
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
  channels: "",
  enabled: true,
  config: {},
};

/** The edit form's values for a stored service. */
export function serviceFormValues(s: ServiceRow, channelNames: ReadonlyMap<number, string> = new Map()): ServiceFormValues {
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
    channels: s.channelIds.map((id) => channelNames.get(id) ?? `#${id}`).join(", "),
    enabled: s.enabled,
    config: schemaForm.configToForm(checkForm(s.kind), s.config),
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
    channels: field("channels"),
    enabled: field("enabled") === "on",
    config,
  };
}

/** saveService's input from the form: empty numbers fall back to the service's current value or the default. */
export function serviceInput(v: ServiceFormValues): Record<string, unknown> {
  return {
    name: v.name,
    kind: v.kind,
    config: schemaForm.configFromForm(checkForm(v.kind), (name) => v.config[name] ?? ""),
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
    channels: v.channels,
    enabled: v.enabled,
  };
}

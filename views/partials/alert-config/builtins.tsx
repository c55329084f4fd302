// The built-in rules (offline, GPU lost, throttling, ECC, idle allocation) and the alert settings, each an editable form.
import Html from "@kitajs/html";
import type { AlertSettings, BuiltinRule } from "../../../src/alerts/rules.ts";

/** A built-in rule's form as typed. */
export interface BuiltinFormValues {
  enabled: boolean;
  severity: string;
  forSeconds: string;
  params: Record<string, string>;
}

export interface BuiltinDraft {
  kind: string;
  values: BuiltinFormValues;
}

/** A built-in rule as the store lists it: the shipped defaults with the stored overrides on top. */
export type BuiltinView = Omit<BuiltinRule, "severity"> & { severity: string };

export function builtinValuesOf(b: BuiltinView): BuiltinFormValues {
  return {
    enabled: b.enabled,
    severity: b.severity,
    forSeconds: String(b.forSeconds),
    params: Object.fromEntries(Object.entries(b.params).map(([k, v]) => [k, String(v)])),
  };
}

export type SettingsFormValues = Record<keyof AlertSettings, string>;

export function settingsValuesOf(s: AlertSettings): SettingsFormValues {
  return {
    cooldownSeconds: String(s.cooldownSeconds),
    repeatSeconds: String(s.repeatSeconds),
    escalationMinutes: String(s.escalationMinutes),
  };
}

/** One row per rule; its inputs belong to the row's form through the `form` attribute. */
export function BuiltinRules(props: { rules: readonly BuiltinView[]; draft?: BuiltinDraft }): JSX.Element {
  return (
    <figure>
      <table class="list striped builtins">
        <thead>
          <tr>
            <th scope="col">Rule</th>
            <th scope="col">Enabled</th>
            <th scope="col">Severity</th>
            <th scope="col">For (s)</th>
            <th scope="col">Parameters</th>
            <th scope="col"></th>
          </tr>
        </thead>
        <tbody>
          {props.rules.map((b) => {
            const v = props.draft?.kind === b.kind ? props.draft.values : builtinValuesOf(b);
            const form = `builtin-${b.kind}`;
            const params = Object.keys(b.params);
            return (
              <tr id={`rule-${b.kind}`}>
                <th scope="row" class="text">
                  <strong safe>{b.label}</strong> <code>{b.kind}</code>
                  <br />
                  <small safe>{b.help}</small>
                </th>
                <td>
                  <input form={form} name="enabled" type="checkbox" role="switch" checked={v.enabled} aria-label={`${b.label}: enabled`} />
                </td>
                <td>
                  <select form={form} name="severity" aria-label={`${b.label}: severity`}>
                    <option value="warning" selected={v.severity !== "critical"}>
                      warning
                    </option>
                    <option value="critical" selected={v.severity === "critical"}>
                      critical
                    </option>
                  </select>
                </td>
                <td>
                  <input
                    form={form}
                    name="forSeconds"
                    type="number"
                    min="0"
                    step="1"
                    value={v.forSeconds}
                    aria-label={`${b.label}: for seconds`}
                  />
                </td>
                <td>
                  {params.length === 0 ? (
                    <small>none</small>
                  ) : (
                    params.map((p) => (
                      <label class="param">
                        <code safe>{p}</code>
                        <input form={form} name={`param.${p}`} type="number" min="0" step="any" value={v.params[p] ?? ""} />
                      </label>
                    ))
                  )}
                </td>
                <td class="actions">
                  <form id={form} method="post" action={`/alerts/builtins/${b.kind}`} class="inline">
                    <button type="submit">Save</button>
                  </form>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </figure>
  );
}

const SETTINGS: { key: keyof AlertSettings; label: string; max: number; help: string }[] = [
  {
    key: "cooldownSeconds",
    label: "Cooldown (seconds)",
    max: 86_400,
    help: "After a firing notification, the same rule on the same worker or GPU stays quiet this long if it fires again, so a flapping value does not flood the channels.",
  },
  {
    key: "repeatSeconds",
    label: "Repeat (seconds)",
    max: 7 * 86_400,
    help: "Tell the channels again this often while an alert keeps firing unacknowledged; 0 tells once.",
  },
  {
    key: "escalationMinutes",
    label: "Escalation (minutes)",
    max: 7 * 1440,
    help: "An alert nobody acknowledges goes to the next channel tier after this long, tier after tier; 0 never escalates beyond tier 1.",
  },
];

export function AlertSettingsForm(props: { values: SettingsFormValues }): JSX.Element {
  return (
    <form method="post" action="/alerts/settings" class="alert-settings">
      <div class="grid">
        {SETTINGS.map((s) => (
          <label>
            <span safe>{s.label}</span>
            <input name={s.key} type="number" min="0" max={String(s.max)} step="1" value={props.values[s.key]} />
            <small safe>{s.help}</small>
          </label>
        ))}
      </div>
      <button type="submit">Save settings</button>
    </form>
  );
}

// The add and edit form of a service: name, kind with the kind's settings from its schema, worker, timing, pre-flight, required files and log.
import Html from "@kitajs/html";
import { CHECK_FORMS, checkKindLabel, type CheckKindForm, type ConfigField, type ServiceFormValues } from "./form-model.ts";

function ConfigInput(props: { field: ConfigField; value: string }): JSX.Element {
  const f = props.field;
  const v = props.value;
  const hint = `${f.description}${f.input === "lines" ? " One per line, as Name: value." : ""}`;
  const title = `${f.key}${f.required ? "" : " (optional)"}`;
  if (f.input === "checkbox")
    return (
      <label>
        <input name={f.name} type="checkbox" role="switch" checked={v === "on"} />
        <span safe>{title}</span>
        <small safe>{hint}</small>
      </label>
    );
  let control: JSX.Element;
  if (f.input === "select")
    control = (
      <select name={f.name}>
        {f.required ? "" : <option value="">(default)</option>}
        {f.choices.map((c) => (
          <option value={c} selected={c === v} safe>
            {c}
          </option>
        ))}
      </select>
    );
  else if (f.input === "lines")
    control = (
      <textarea name={f.name} rows="3" placeholder={f.placeholder || undefined} safe>
        {v}
      </textarea>
    );
  else
    control = (
      <input
        name={f.name}
        type={f.input}
        value={v}
        placeholder={f.placeholder || undefined}
        min={f.min === undefined ? undefined : String(f.min)}
        max={f.max === undefined ? undefined : String(f.max)}
        step={f.input === "number" ? (f.integer ? "1" : "any") : undefined}
        autocomplete="off"
      />
    );
  return (
    <label>
      <span safe>{title}</span>
      {control}
      <small safe>{hint}</small>
    </label>
  );
}

function KindFieldset(props: { form: CheckKindForm; values: Record<string, string> }): JSX.Element {
  const k = props.form;
  return (
    <fieldset class="kind-fields" data-kind={k.kind}>
      <legend safe>{`${k.label} settings`}</legend>
      {k.fields.length === 0 ? <p class="muted">Nothing to set: it checks Vigil's own parts.</p> : ""}
      {k.fields.map((f) => (
        <ConfigInput field={f} value={props.values[f.name] ?? ""} />
      ))}
    </fieldset>
  );
}

export interface ServiceFormProps {
  /** Absent: a new service (every kind's fieldset; the picked kind's is used). */
  id?: number;
  values: ServiceFormValues;
  workers: readonly { id: number; name: string }[];
  error?: string;
}

/**
 * Adds a service, or edits one (its kind's fieldset only: a service's kind stays; add another to change it). Every kind's
 * settings sit in the add form, and a stylesheet rule shows only the picked kind's where the browser has `:has()`.
 */
export function ServiceForm(props: ServiceFormProps): JSX.Element {
  const v = props.values;
  const editing = props.id !== undefined;
  const kinds = editing ? CHECK_FORMS.filter((k) => k.kind === v.kind) : CHECK_FORMS;
  const workerKinds = CHECK_FORMS.filter((k) => k.needsWorker).map((k) => k.label);
  return (
    <form
      method="post"
      action={editing ? `/health/${props.id}/edit` : "/health/services"}
      class={editing ? "service-form" : "service-form service-add"}
    >
      {props.error ? (
        <p class="notice notice-error" role="alert" safe>
          {props.error}
        </p>
      ) : (
        ""
      )}
      <div class="grid">
        <label>
          Name
          <input name="name" value={v.name} required maxlength="80" placeholder="inference-api" />
        </label>
        <label>
          Kind
          {editing ? (
            <>
              <input value={checkKindLabel(v.kind)} disabled aria-label="Kind (a service's kind cannot change)" />
              <input type="hidden" name="kind" value={v.kind} />
            </>
          ) : (
            <select name="kind">
              {CHECK_FORMS.map((k) => (
                <option value={k.kind} selected={k.kind === v.kind} safe>
                  {k.label}
                </option>
              ))}
            </select>
          )}
        </label>
        <label>
          Worker
          <select name="workerId">
            <option value="" selected={v.workerId === ""}>
              none: checked from the head
            </option>
            {props.workers.map((w) => (
              <option value={String(w.id)} selected={String(w.id) === v.workerId} safe>
                {w.name}
              </option>
            ))}
          </select>
          <small safe>{`Required for: ${workerKinds.join(", ")}. A filesystem check with a worker looks at the worker's disk.`}</small>
        </label>
      </div>
      {editing ? "" : <p class="kind-hint">Fill in the settings of the kind you picked; the other kinds' settings are ignored.</p>}
      {kinds.map((k) => (
        <KindFieldset form={k} values={v.config} />
      ))}
      <div class="grid">
        <label>
          Interval <small>(seconds, 5 to 86400)</small>
          <input name="intervalSeconds" type="number" min="5" max="86400" step="1" value={v.intervalSeconds} />
        </label>
        <label>
          Timeout <small>(seconds, 1 to 120)</small>
          <input name="timeoutSeconds" type="number" min="1" max="120" step="1" value={v.timeoutSeconds} />
        </label>
        <label>
          Degraded above <small>(ms; empty: latency alone never degrades)</small>
          <input name="degradedLatencyMs" type="number" min="1" max="600000" step="1" value={v.degradedLatencyMs} />
        </label>
        <label>
          Escalation delay <small>(seconds before channels hear of a problem)</small>
          <input name="escalationSeconds" type="number" min="0" max="604800" step="1" value={v.escalationSeconds} />
        </label>
      </div>
      <label>
        <input name="critical" type="checkbox" role="switch" checked={v.critical} />
        Critical: pre-flight (and GET /api/v1/ready) needs it healthy
      </label>
      <div class="grid">
        <label>
          Required files <small>(absolute paths, one per line; on its worker, if any)</small>
          <textarea name="requiredFiles" rows="3" placeholder="/models/llama-3-70b/config.json" safe>
            {v.requiredFiles}
          </textarea>
        </label>
        <label>
          Log source <small>(unit:NAME for the unit's journal, or an absolute file path; read on its worker)</small>
          <input name="logSource" value={v.logSource} maxlength="300" placeholder="unit:vllm.service" />
        </label>
      </div>
      <label>
        <input name="enabled" type="checkbox" role="switch" checked={v.enabled} />
        Enabled: checked at its interval
      </label>
      <button type="submit">{editing ? "Save service" : "Add service"}</button>
    </form>
  );
}

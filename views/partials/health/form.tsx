// The add and edit form of a service: name, kind with the kind's settings from its schema, worker, timing, pre-flight, required files and log.
import Html from "@kitajs/html";
import { KindField, KindSettings } from "../../components/schema-form.tsx";
import { ChoiceSelect, workerChoices } from "../../components/choice-select.tsx";
import { CHECK_FORMS, type ServiceFormValues } from "./form-model.ts";

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
        <KindField forms={CHECK_FORMS} value={v.kind} editing={editing} noun="service" />
        <label>
          Worker
          <ChoiceSelect name="workerId" value={v.workerId} none="none: checked from the head" choices={workerChoices(props.workers)} />
          <small safe>{`Required for: ${workerKinds.join(", ")}. A filesystem check with a worker looks at the worker's disk.`}</small>
        </label>
      </div>
      <KindSettings
        forms={CHECK_FORMS}
        kind={v.kind}
        editing={editing}
        values={v.config}
        empty={() => <p class="muted">Nothing to set: it checks Vigil's own parts.</p>}
      />
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
          Channels <small>(names, comma-separated; empty: every channel)</small>
          <input name="channels" value={v.channels} maxlength="1000" placeholder="ops-webhook, on-call" />
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

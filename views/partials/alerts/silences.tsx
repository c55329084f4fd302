// Silences and maintenance windows on the alerts page: the list (a live region) and the admins' two forms (plain POSTs, no script needed).
import Html from "@kitajs/html";
import { ruleLabel } from "../../../src/alerts/message.ts";
import { ChoiceSelect, workerChoices } from "../../components/choice-select.tsx";
import { Cell, DataTable } from "../../components/data-table.tsx";
import { formatAt, span } from "../../components/format.ts";
import type { AlertsRegionProps, SilenceView } from "./model.ts";

function scopeText(v: SilenceView): string {
  const s = v.row;
  const worker = s.workerId === null ? "every worker" : (v.workerName ?? `worker ${s.workerId}`);
  const rule = s.rule === null ? "every rule" : ruleLabel(s.rule).label;
  const gpu = s.gpuUuid === null ? "" : ` · GPU ${s.gpuUuid}`;
  return `${worker}${gpu} · ${rule}`;
}

function whenText(v: SilenceView, now: number): string {
  const s = v.row;
  const starts = s.startsAt.getTime();
  const ends = s.endsAt.getTime();
  if (starts > now) return `from ${formatAt(starts)} (in ${span(now, starts)}) until ${formatAt(ends)}`;
  return `until ${formatAt(ends)} (${span(now, ends)} left)`;
}

/** The Cancel button of a silence or window: a plain form; with htmx it posts in place and the live list redraws. */
export function CancelSilenceForm(props: { id: number }): JSX.Element {
  const action = `/alerts/silences/${props.id}/cancel`;
  return (
    <form method="post" action={action} class="inline" hx-post={action} hx-swap="none">
      <button type="submit" class="outline secondary cancel-silence">
        Cancel
      </button>
    </form>
  );
}

/** `#alerts-silences`: silences and maintenance windows in force or planned, soonest ending first. */
export function SilenceList(props: Pick<AlertsRegionProps, "silences" | "now" | "admin">): JSX.Element {
  return (
    <div id="alerts-silences">
      {props.silences.length === 0 ? (
        <p class="alerts-empty">No silence or maintenance window is in force or planned.</p>
      ) : (
        <DataTable class="alerts-table" columns={["Kind", "Applies to", "When", "By", "Reason", ...(props.admin ? ["Action"] : [])]}>
          {props.silences.map((v) => {
            const s = v.row;
            const planned = s.startsAt.getTime() > props.now;
            return (
              <tr id={`silence-${s.id}`} class={planned ? "silence planned" : "silence active"} data-silence={String(s.id)}>
                <td data-label="Kind">
                  <mark class={`silence-kind kind-${s.kind === "maintenance" ? "maintenance" : "silence"}`} safe>
                    {`${s.kind === "maintenance" ? "maintenance" : "silence"}${planned ? " (planned)" : ""}`}
                  </mark>
                </td>
                <Cell label="Applies to" class="text" text={scopeText(v)} />
                <Cell label="When" class="text" text={whenText(v, props.now)} />
                <Cell label="By" class="text" text={s.createdBy} />
                <Cell label="Reason" class="text" text={s.reason ?? "—"} />
                {props.admin ? (
                  <td data-label="Action">
                    <CancelSilenceForm id={s.id} />
                  </td>
                ) : (
                  ""
                )}
              </tr>
            );
          })}
        </DataTable>
      )}
    </div>
  );
}

export interface SilenceFormValues {
  workerId?: string;
  rule?: string;
  gpu?: string;
  /** 1h | 4h | 24h | until */
  duration?: string;
  until?: string;
  reason?: string;
}

export interface MaintenanceFormValues {
  workerId?: string;
  startsAt?: string;
  endsAt?: string;
  reason?: string;
}

export interface FormState<V> {
  error?: string;
  values?: V;
}

export interface SilenceFormsProps {
  workers: readonly { id: number; name: string }[];
  rules: readonly { value: string; label: string }[];
  silence?: FormState<SilenceFormValues>;
  maintenance?: FormState<MaintenanceFormValues>;
}

export const DURATIONS: Record<string, { minutes: number; label: string }> = {
  "1h": { minutes: 60, label: "1 hour" },
  "4h": { minutes: 240, label: "4 hours" },
  "24h": { minutes: 1440, label: "24 hours" },
};

function FormError(props: { text: string | undefined }): JSX.Element {
  if (!props.text) return <></>;
  return (
    <p class="notice notice-error" role="alert" safe>
      {props.text}
    </p>
  );
}

/** Admins only (the caller decides): a silence from now, and a planned maintenance window. Disclosures, so no script is needed. */
export function SilenceForms(props: SilenceFormsProps): JSX.Element {
  const s = props.silence?.values ?? {};
  const m = props.maintenance?.values ?? {};
  const duration = s.duration && (s.duration in DURATIONS || s.duration === "until") ? s.duration : "1h";
  return (
    <div class="silence-forms">
      <details class="silence-dialog" id="silence-form" open={props.silence?.error ? true : undefined}>
        <summary role="button" class="outline">
          Silence alerts…
        </summary>
        <article>
          <FormError text={props.silence?.error} />
          <form method="post" action="/alerts/silences" class="silence-form">
            <input type="hidden" name="kind" value="silence" />
            <p class="alerts-help">
              Alerts still open and close while silenced; only notifications are held back. Leave a field empty to match everything.
            </p>
            <div class="grid">
              <label>
                Worker
                <ChoiceSelect name="workerId" value={s.workerId} none="every worker" choices={workerChoices(props.workers)} />
              </label>
              <label>
                Rule
                <ChoiceSelect name="rule" value={s.rule} none="every rule" choices={props.rules} />
              </label>
              <label>
                GPU <small>(index or UUID; with a worker)</small>
                <input type="text" name="gpu" maxlength="128" placeholder="every GPU" value={s.gpu ?? ""} />
              </label>
            </div>
            <fieldset>
              <legend>For</legend>
              {Object.entries(DURATIONS).map(([value, d]) => (
                <label>
                  <input type="radio" name="duration" value={value} checked={duration === value ? true : undefined} />
                  <span safe>{d.label}</span>
                </label>
              ))}
              <label>
                <input type="radio" name="duration" value="until" checked={duration === "until" ? true : undefined} />
                until
              </label>
              <label>
                Until <small>(UTC)</small>
                <input type="datetime-local" name="until" value={s.until ?? ""} />
              </label>
            </fieldset>
            <label>
              Reason <small>(shown here and kept in the audit log)</small>
              <textarea name="reason" rows="2" maxlength="2000" placeholder="known issue, fix under way" safe>
                {s.reason ?? ""}
              </textarea>
            </label>
            <button type="submit" class="silence-submit">
              Silence
            </button>
          </form>
        </article>
      </details>
      <details class="silence-dialog" id="maintenance-form" open={props.maintenance?.error ? true : undefined}>
        <summary role="button" class="outline secondary">
          Plan a maintenance window…
        </summary>
        <article>
          <FormError text={props.maintenance?.error} />
          <form method="post" action="/alerts/silences" class="maintenance-form">
            <input type="hidden" name="kind" value="maintenance" />
            <p class="alerts-help">During the window no notification about the worker goes out; its alerts are still recorded.</p>
            <label>
              Worker
              <ChoiceSelect name="workerId" value={m.workerId} prompt="Choose a worker" choices={workerChoices(props.workers)} />
            </label>
            <div class="grid">
              <label>
                Starts <small>(UTC; empty: now)</small>
                <input type="datetime-local" name="startsAt" value={m.startsAt ?? ""} />
              </label>
              <label>
                Ends <small>(UTC)</small>
                <input type="datetime-local" name="endsAt" required value={m.endsAt ?? ""} />
              </label>
            </div>
            <label>
              Reason
              <textarea name="reason" rows="2" maxlength="2000" placeholder="driver upgrade" safe>
                {m.reason ?? ""}
              </textarea>
            </label>
            <button type="submit" class="maintenance-submit">
              Plan the window
            </button>
          </form>
        </article>
      </details>
    </div>
  );
}

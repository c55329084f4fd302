// The threshold editor: each metric's global rule and its per-worker and per-GPU overrides, edited in place, and the form to add one.
import Html from "@kitajs/html";
import { ALERT_METRICS, alertMetric } from "../../../src/alerts/metrics.ts";
import type { ThresholdRow } from "../../../src/alerts/store.ts";
import { formatAgo } from "../../components/format.ts";
import { ChoiceSelect, workerChoices } from "../../components/choice-select.tsx";

/** A worker as the scope pickers offer it, with its GPUs. */
export interface WorkerChoice {
  id: number;
  name: string;
  gpus: { uuid: string; index: number; name: string }[];
}

/** A threshold form as typed: text as it came, so a rejected form shows back exactly what was sent. */
export interface ThresholdFormValues {
  metric: string;
  /** "" for global. */
  workerId: string;
  /** "" for the whole worker, else `<workerId>:<uuid>`. */
  gpu: string;
  direction: string;
  warning: string;
  critical: string;
  forSeconds: string;
  hysteresis: string;
  enabled: boolean;
}

/** A rejected form to show again: the rule being edited (its id), or the add form (null). */
export interface ThresholdDraft {
  id: number | null;
  values: ThresholdFormValues;
}

export const NEW_THRESHOLD: ThresholdFormValues = {
  metric: "temperature",
  workerId: "",
  gpu: "",
  direction: "above",
  warning: "",
  critical: "",
  forSeconds: "60",
  hysteresis: "0",
  enabled: true,
};

const text = (v: number | null): string => (v === null ? "" : String(v));

export function valuesOf(r: ThresholdRow): ThresholdFormValues {
  return {
    metric: r.metric,
    workerId: r.workerId === null ? "" : String(r.workerId),
    gpu: r.gpuUuid === null || r.workerId === null ? "" : `${r.workerId}:${r.gpuUuid}`,
    direction: r.direction,
    warning: text(r.warning),
    critical: text(r.critical),
    forSeconds: String(r.forSeconds),
    hysteresis: String(r.hysteresis),
    enabled: r.enabled,
  };
}

/** "GPU temperature (°C)": how a metric reads in pickers and headings. */
export function metricTitle(name: string): string {
  const m = alertMetric(name);
  if (!m) return name;
  return m.unit ? `${m.label} (${m.unit})` : m.label;
}

/** Global first, then per-worker, then per-GPU; within each, by worker name and GPU index. */
function rank(r: ThresholdRow, workers: Map<number, WorkerChoice>): [number, string, number] {
  if (r.workerId === null) return [0, "", 0];
  const w = workers.get(r.workerId);
  const gpu = w?.gpus.find((g) => g.uuid === r.gpuUuid);
  return [r.gpuUuid === null ? 1 : 2, w?.name ?? "", gpu?.index ?? 0];
}

function ScopeLabel(props: { row: ThresholdRow; workers: Map<number, WorkerChoice> }): JSX.Element {
  const r = props.row;
  if (r.workerId === null) return <>All workers (global)</>;
  const w = props.workers.get(r.workerId);
  const worker = w?.name ?? `worker ${r.workerId}`;
  if (r.gpuUuid === null)
    return (
      <>
        Worker{" "}
        <a href={`/workers/${r.workerId}`} safe>
          {worker}
        </a>
      </>
    );
  const gpu = w?.gpus.find((g) => g.uuid === r.gpuUuid);
  return (
    <>
      <a href={`/workers/${r.workerId}`} safe>
        {worker}
      </a>{" "}
      <span title={r.gpuUuid} safe>
        {gpu ? `GPU ${gpu.index}` : r.gpuUuid}
      </span>
    </>
  );
}

function DirectionSelect(props: { value: string; form?: string; label?: string }): JSX.Element {
  return (
    <select name="direction" form={props.form} aria-label={props.label}>
      <option value="above" selected={props.value !== "below"}>
        above
      </option>
      <option value="below" selected={props.value === "below"}>
        below
      </option>
    </select>
  );
}

/** One rule as a table row whose cells are the inputs of the row's form (the `form` attribute ties them to it). */
function RuleRow(props: { row: ThresholdRow; workers: Map<number, WorkerChoice>; values: ThresholdFormValues; now: number }): JSX.Element {
  const r = props.row;
  const v = props.values;
  const form = `threshold-${r.id}`;
  const scope = r.scope;
  return (
    <tr id={`rule-${r.id}`} class={r.enabled ? undefined : "rule-disabled"}>
      <th scope="row" class="text">
        <ScopeLabel row={r} workers={props.workers} />
      </th>
      <td>
        <input form={form} name="warning" type="number" step="any" value={v.warning} aria-label={`${r.metric} ${scope}: warning level`} />
      </td>
      <td>
        <input
          form={form}
          name="critical"
          type="number"
          step="any"
          value={v.critical}
          aria-label={`${r.metric} ${scope}: critical level`}
        />
      </td>
      <td>
        <DirectionSelect value={v.direction} form={form} label={`${r.metric} ${scope}: fires when the value is`} />
      </td>
      <td>
        <input
          form={form}
          name="forSeconds"
          type="number"
          min="0"
          step="1"
          value={v.forSeconds}
          aria-label={`${r.metric} ${scope}: for seconds`}
        />
      </td>
      <td>
        <input
          form={form}
          name="hysteresis"
          type="number"
          min="0"
          step="any"
          value={v.hysteresis}
          aria-label={`${r.metric} ${scope}: hysteresis`}
        />
      </td>
      <td>
        <input form={form} name="enabled" type="checkbox" role="switch" checked={v.enabled} aria-label={`${r.metric} ${scope}: enabled`} />
      </td>
      <td class="text">
        <span safe>{r.updatedBy ?? "—"}</span>
        <br />
        <small safe>{formatAgo(r.updatedAt.toISOString(), props.now)}</small>
      </td>
      <td class="actions">
        <form id={form} method="post" action="/alerts/thresholds" class="inline">
          <input type="hidden" name="id" value={String(r.id)} />
          <button type="submit">Save</button>
        </form>
        <form method="post" action={`/alerts/thresholds/${r.id}/delete`} class="inline">
          <button type="submit" class="outline contrast">
            Delete
          </button>
        </form>
      </td>
    </tr>
  );
}

/** Every metric that has a rule, in the order of ALERT_METRICS (unknown metrics from a newer version last). */
export function ThresholdTables(props: {
  rows: ThresholdRow[];
  workers: WorkerChoice[];
  draft?: ThresholdDraft;
  now?: number;
}): JSX.Element {
  const now = props.now ?? Date.now();
  const workers = new Map(props.workers.map((w) => [w.id, w]));
  const known = ALERT_METRICS.map((m) => m.name);
  const metrics = [...new Set(props.rows.map((r) => r.metric))].sort(
    (a, b) => (known.indexOf(a) + 1 || 1e6) - (known.indexOf(b) + 1 || 1e6) || a.localeCompare(b),
  );
  if (metrics.length === 0) return <p>No threshold rules: add one below.</p>;
  return (
    <>
      {metrics.map((metric) => {
        const rows = props.rows
          .filter((r) => r.metric === metric)
          .sort((a, b) => {
            const [ka, na, ia] = rank(a, workers);
            const [kb, nb, ib] = rank(b, workers);
            return ka - kb || na.localeCompare(nb) || ia - ib;
          });
        return (
          <section class="threshold-group" id={`metric-${metric}`}>
            <h3>
              <span safe>{metricTitle(metric)}</span> <code safe>{metric}</code>
            </h3>
            <figure>
              <table class="list striped thresholds">
                <thead>
                  <tr>
                    <th scope="col">Applies to</th>
                    <th scope="col">Warning</th>
                    <th scope="col">Critical</th>
                    <th scope="col">Fires when</th>
                    <th scope="col">For (s)</th>
                    <th scope="col">Hysteresis</th>
                    <th scope="col">Enabled</th>
                    <th scope="col">Updated by</th>
                    <th scope="col"></th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <RuleRow
                      row={r}
                      workers={workers}
                      now={now}
                      values={props.draft && props.draft.id === r.id ? props.draft.values : valuesOf(r)}
                    />
                  ))}
                </tbody>
              </table>
            </figure>
          </section>
        );
      })}
    </>
  );
}

/** The form that adds a rule: a global one for a metric without, or an override for one worker or one GPU. */
export function ThresholdAddForm(props: { workers: WorkerChoice[]; values?: ThresholdFormValues }): JSX.Element {
  const v = props.values ?? NEW_THRESHOLD;
  const groups = [
    { label: "GPU metrics", metrics: ALERT_METRICS.filter((m) => m.scope === "gpu") },
    { label: "Host metrics", metrics: ALERT_METRICS.filter((m) => m.scope === "host") },
  ];
  return (
    <form method="post" action="/alerts/thresholds" id="threshold-new" class="threshold-add">
      <div class="grid">
        <label>
          Metric
          <select name="metric">
            {groups.map((g) => (
              <optgroup label={g.label}>
                {g.metrics.map((m) => (
                  <option value={m.name} selected={m.name === v.metric} safe>
                    {metricTitle(m.name)}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
        </label>
        <label>
          Worker
          <ChoiceSelect name="workerId" value={v.workerId} none="All workers (global rule)" choices={workerChoices(props.workers)} />
        </label>
        <label>
          GPU (GPU metrics only)
          <select name="gpu">
            <option value="" selected={v.gpu === ""}>
              Every GPU of the worker
            </option>
            {props.workers
              .filter((w) => w.gpus.length > 0)
              .map((w) => (
                <optgroup label={w.name}>
                  {w.gpus.map((g) => {
                    const value = `${w.id}:${g.uuid}`;
                    return (
                      <option value={value} selected={value === v.gpu} safe>
                        {`${w.name} · GPU ${g.index} · ${g.name}`}
                      </option>
                    );
                  })}
                </optgroup>
              ))}
          </select>
        </label>
      </div>
      <div class="grid">
        <label>
          Fires when the value is
          <DirectionSelect value={v.direction} />
        </label>
        <label>
          Warning level
          <input name="warning" type="number" step="any" value={v.warning} />
        </label>
        <label>
          Critical level
          <input name="critical" type="number" step="any" value={v.critical} />
        </label>
        <label>
          For (seconds)
          <input name="forSeconds" type="number" min="0" step="1" value={v.forSeconds} />
        </label>
        <label>
          Hysteresis
          <input name="hysteresis" type="number" min="0" step="any" value={v.hysteresis} />
        </label>
      </div>
      <label>
        <input name="enabled" type="checkbox" role="switch" checked={v.enabled} />
        Enabled
      </label>
      <p>
        <small>
          Leave one level empty to have only the other. "For" is how long the value must stay past a level before the alert fires;
          hysteresis is how far back past the level it must come before the level clears, so a value hovering at the line does not flap. A
          rule for the same metric and scope as an existing one replaces it.
        </small>
      </p>
      <button type="submit">Save rule</button>
    </form>
  );
}

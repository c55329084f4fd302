// The alerts page's history: every alert, newest first, filtered by worker, rule and state, a hundred at a time.
import Html from "@kitajs/html";
import { ruleLabel } from "../../../src/alerts/message.ts";
import type { listAlerts } from "../../../src/alerts/store.ts";
import { gpuText, SeverityMark } from "./open.tsx";
import { Cell, DataTable, TimeCell } from "../../components/data-table.tsx";
import { formatAt, span } from "../../components/format.ts";
import { ChoiceSelect, workerChoices } from "../../components/choice-select.tsx";
import { formatValue } from "./model.ts";

export type HistoryRow = Awaited<ReturnType<typeof listAlerts>>[number];

export const HISTORY_STATES = ["resolved", "firing", "pending", "nodata", "open"] as const;
export const HISTORY_PAGE = 100;

export interface HistoryFilter {
  /** The worker's id as typed in the URL, kept as given ("" for every worker). */
  worker: string;
  rule: string;
  state: string;
}

export interface AlertHistoryProps {
  rows: readonly HistoryRow[];
  filter: HistoryFilter;
  workers: readonly { id: number; name: string }[];
  rules: readonly { value: string; label: string }[];
  /** The `before` of the next page, when there may be older rows. */
  older: number | null;
  /** Set when the page is already an older one: a link back to the newest. */
  paged: boolean;
  /** Open alerts shown in the sections above: their rows here do not take the `alert-<id>` anchor. */
  shownAbove: ReadonlySet<number>;
  now: number;
}

/** The page's URL with these filters (empty ones left out), for the "older" and "newest" links. */
export function historyHref(f: HistoryFilter, before?: number): string {
  const q = new URLSearchParams();
  if (f.worker) q.set("worker", f.worker);
  if (f.rule) q.set("rule", f.rule);
  if (f.state) q.set("state", f.state);
  if (before !== undefined) q.set("before", String(before));
  const s = q.toString();
  return `/alerts${s ? `?${s}` : ""}#history`;
}

function HistoryFilterForm(props: Pick<AlertHistoryProps, "filter" | "workers" | "rules">): JSX.Element {
  const f = props.filter;
  return (
    <form method="get" action="/alerts" class="history-filter" aria-label="Filter the history">
      <div class="grid">
        <label>
          Worker
          <ChoiceSelect name="worker" value={f.worker} none="every worker" choices={workerChoices(props.workers)} />
        </label>
        <label>
          Rule
          <ChoiceSelect name="rule" value={f.rule} none="every rule" choices={props.rules} />
        </label>
        <label>
          State
          <select name="state">
            <option value="">every state</option>
            {HISTORY_STATES.map((s) => (
              <option value={s} selected={s === f.state}>
                {s === "open" ? "open (pending, firing, no data)" : s === "nodata" ? "no data" : s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <button type="submit" class="outline">
        Filter
      </button>{" "}
      {f.worker || f.rule || f.state ? (
        <a href="/alerts#history" class="secondary">
          Clear the filter
        </a>
      ) : (
        ""
      )}
    </form>
  );
}

function outcome(r: HistoryRow["alert"], now: number): string {
  const start = r.startedAt.getTime();
  if (r.state !== "resolved") return `open for ${span(start, now)}`;
  if (!r.resolvedAt) return "closed";
  // A pending alert that cleared before firing is dropped by the engine; a resolved one fired.
  return `resolved ${formatAt(r.resolvedAt)}, after ${span(r.firedAt?.getTime() ?? start, r.resolvedAt.getTime())}`;
}

export function AlertHistory(props: AlertHistoryProps): JSX.Element {
  return (
    <section id="history" class="alerts-section" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <HistoryFilterForm filter={props.filter} workers={props.workers} rules={props.rules} />
      {props.rows.length === 0 ? (
        <p class="alerts-empty">No alert matches.</p>
      ) : (
        <DataTable
          class="alerts-table history"
          columns={["#", "State", "Severity", "Worker", "GPU", "Rule", "Last value", "Started", "Outcome", "Acknowledged"]}
        >
          {props.rows.map(({ alert: a, workerName }) => {
            const { label, unit } = ruleLabel(a.rule);
            return (
              <tr
                id={props.shownAbove.has(a.id) ? `history-alert-${a.id}` : `alert-${a.id}`}
                class={`alert-row state-${a.state}`}
                data-alert={String(a.id)}
              >
                <td data-label="#">
                  <a href={`/alerts/${a.id}`} safe>{`#${a.id}`}</a>
                </td>
                <Cell label="State" text={a.state === "nodata" ? "no data" : a.state} />
                <td data-label="Severity">
                  <SeverityMark severity={a.severity} />
                </td>
                <td data-label="Worker" class="text">
                  <a href={`/workers/${a.workerId}`} safe>
                    {workerName}
                  </a>
                </td>
                <Cell label="GPU" class="text" text={gpuText(a.gpuIndex, null)} />
                <td data-label="Rule" class="text">
                  <a href={`/alerts/${a.id}`} safe>
                    {label}
                  </a>
                </td>
                <Cell label="Last value" class="num" text={formatValue(a.value, unit)} />
                <TimeCell label="Started" at={a.startedAt} />
                <Cell label="Outcome" class="text" text={outcome(a, props.now)} />
                <Cell label="Acknowledged" class="text" text={a.ackedBy ? `by ${a.ackedBy}` : "—"} />
              </tr>
            );
          })}
        </DataTable>
      )}
      <nav class="history-pages" aria-label="History pages">
        {props.paged ? (
          <a href={historyHref(props.filter)} class="secondary">
            Newest
          </a>
        ) : (
          ""
        )}
        {props.older !== null ? (
          <a href={historyHref(props.filter, props.older)} rel="next" class="history-older">
            Older alerts
          </a>
        ) : (
          ""
        )}
      </nav>
    </section>
  );
}

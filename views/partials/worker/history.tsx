// History on the worker page: range links and a custom range form (plain GET), chart figures that static/charts.js draws, a summary table that needs no script.
import Html from "@kitajs/html";
import type { Threshold, Thresholds } from "../../../src/alerts/thresholds.ts";
import { ParamError, parseTime } from "../../../src/history/params.ts";
import type { MetricStats, StatsResult } from "../../../src/history/stats.ts";
import { formatBytes, NA } from "../../components/format.ts";
import { formatTime, mibToBytes, num, type GpuSelection } from "./model.ts";

/** The preset ranges, as the relative `since` the history API takes. */
export const RANGES = ["1h", "6h", "24h", "7d", "30d"] as const;
export type RangeKey = (typeof RANGES)[number];
export const DEFAULT_RANGE: RangeKey = "6h";

const RANGE_WORDS: Record<RangeKey, string> = {
  "1h": "the last hour",
  "6h": "the last 6 hours",
  "24h": "the last 24 hours",
  "7d": "the last 7 days",
  "30d": "the last 30 days",
};

export interface HistoryRange {
  key: RangeKey | "custom";
  /** As the API takes them: relative (`-6h`) for presets, so a chart drawn later still ends at "now". */
  since: string;
  until?: string;
  /** The same, resolved at render time (for the summary table and the words). */
  sinceDate: Date;
  untilDate: Date;
  words: string;
}

/**
 * The page's `range=` (a preset) or `since=` / `until=` (a custom range: ISO 8601 or what a datetime-local input
 * sends, read as UTC). A bad custom range falls back to the default and says why.
 */
export function historyRange(query: URLSearchParams, now: Date): { range: HistoryRange; problem?: string } {
  const preset = (key: RangeKey): HistoryRange => ({
    key,
    since: `-${key}`,
    sinceDate: parseTime(`-${key}`, "since", now),
    untilDate: now,
    words: RANGE_WORDS[key],
  });
  const since = query.get("since")?.trim();
  const until = query.get("until")?.trim();
  if (since) {
    try {
      const s = parseTime(since, "since", now);
      const u = until ? parseTime(until, "until", now) : now;
      if (s.getTime() >= u.getTime()) throw new ParamError("since", "the start of the range must be before its end");
      return {
        range: {
          key: "custom",
          since,
          until: until || undefined,
          sinceDate: s,
          untilDate: u,
          words: `${formatTime(s)} to ${formatTime(u)}`,
        },
      };
    } catch (err) {
      if (!(err instanceof ParamError)) throw err;
      return { range: preset(DEFAULT_RANGE), problem: `Custom range not used: ${err.message}.` };
    }
  }
  const key = query.get("range");
  return { range: preset((RANGES as readonly string[]).includes(key ?? "") ? (key as RangeKey) : DEFAULT_RANGE) };
}

/** The charts: what each draws, from which API metrics, against which threshold. */
export const CHARTS = [
  { metric: "utilization", title: "Utilization", unit: "%", api: ["utilization"], threshold: "utilization" },
  { metric: "memoryPercent", title: "VRAM used", unit: "%", api: ["memoryUsed", "memoryTotal"], threshold: "memoryPercent" },
  { metric: "temperature", title: "Temperature", unit: "°C", api: ["temperature"], threshold: "temperature" },
  // Power's threshold is a percent of the power limit: charts.js draws it at that share of the limit it fetched.
  { metric: "power", title: "Power draw", unit: "W", api: ["powerUsage", "powerLimit"], threshold: "powerPercent" },
] as const satisfies readonly { metric: string; title: string; unit: string; api: readonly string[]; threshold: keyof Thresholds }[];

export const CHART_POINTS = 600;
export const HISTORY_METRICS = CHARTS.flatMap((c) => c.api);

/** The history API's URL for these charts; `format=csv` gives the same data as a file. */
export function historyUrl(
  workerId: number,
  o: { since: string; until?: string; gpu: string; metrics: readonly string[]; points?: number; format?: "csv" },
): string {
  const q = new URLSearchParams({ since: o.since });
  if (o.until) q.set("until", o.until);
  q.set("gpu", o.gpu);
  // `gpu.` because memoryUsed and memoryTotal are host metrics too, and the host is not what these charts show.
  q.set("metrics", o.metrics.map((m) => `gpu.${m}`).join(","));
  q.set("points", String(o.points ?? CHART_POINTS));
  if (o.format) q.set("format", o.format);
  return `/api/v1/workers/${workerId}/metrics?${q}`;
}

type Chart = (typeof CHARTS)[number];

/** A metric's figures as the chart shows them: VRAM as a percent of the memory size, the rest as they are. */
function chartStats(
  chart: Chart,
  m: Record<string, MetricStats>,
): { min: number | null; avg: number | null; max: number | null; p95: number | null } | null {
  if (chart.metric === "memoryPercent") {
    const used = m.memoryUsed;
    const total = m.memoryTotal?.avg;
    if (!used || !total) return null;
    const pct = (v: number | null) => (v === null ? null : (v / total) * 100);
    return { min: pct(used.min), avg: pct(used.avg), max: pct(used.max), p95: pct(used.p95) };
  }
  const s = m[chart.api[0]];
  return s && s.samples > 0 ? s : null;
}

function describe(chart: Chart, stats: StatsResult | null, range: HistoryRange, t: Threshold): string {
  const lines: string[] = [];
  const digits = chart.unit === "W" ? 0 : 1;
  for (const g of stats?.gpus ?? []) {
    const s = chartStats(chart, g.metrics);
    const who = (stats?.gpus.length ?? 0) > 1 ? `GPU ${g.index}: ` : "";
    lines.push(
      s
        ? `${who}min ${num(s.min, chart.unit, digits)}, average ${num(s.avg, chart.unit, digits)}, max ${num(s.max, chart.unit, digits)}`
        : `${who}no data`,
    );
  }
  const limits =
    chart.metric === "power"
      ? `warning at ${t.warning} % and critical at ${t.critical} % of the power limit`
      : `warning at ${t.warning} ${chart.unit}, critical at ${t.critical} ${chart.unit}`;
  return `${chart.title} over ${range.words}: ${lines.join("; ") || "no data"}. Lines mark the ${limits}.`;
}

export interface HistoryProps {
  workerId: number;
  selection: GpuSelection;
  range: HistoryRange;
  thresholds: Thresholds;
  /** min / avg / max / p95 over the range, computed by the page route; null when there is no GPU. */
  stats: StatsResult | null;
  problem?: string;
}

export function WorkerHistory(props: HistoryProps): JSX.Element {
  const { workerId, range, selection } = props;
  if (selection.kind === "none") {
    return (
      <section id="history" aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <p>This worker has no GPU history.</p>
      </section>
    );
  }
  const gpu = selection.kind === "all" ? "all" : String(selection.index);
  // Absolute: the page is also the answer to a failed restart POST, whose URL is /workers/:id/restart.
  const link = (extra: string) => `/workers/${workerId}?gpu=${gpu}&${extra}#history`;
  const custom = range.key === "custom";
  return (
    <section id="history" aria-labelledby="history-title">
      <h2 id="history-title">
        History <small safe>{`· ${selection.kind === "all" ? "every GPU" : `GPU ${gpu}`} · ${range.words}`}</small>
      </h2>
      {props.problem ? (
        <p class="notice notice-error" role="alert" safe>
          {props.problem}
        </p>
      ) : (
        ""
      )}
      <div class="history-controls">
        <nav aria-label="History range">
          <ul class="ranges">
            {RANGES.map((r) => (
              <li>
                <a
                  href={link(`range=${r}`)}
                  role="button"
                  class={r === range.key ? "" : "outline secondary"}
                  aria-current={r === range.key ? "true" : undefined}
                  title={`Show ${RANGE_WORDS[r]}`}
                >
                  {r}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <form method="get" action={`/workers/${workerId}#history`} class="custom-range" aria-label="Custom range">
          <input type="hidden" name="gpu" value={gpu} />
          <label>
            From (UTC)
            <input type="datetime-local" name="since" required value={custom ? toLocalInput(range.sinceDate) : ""} />
          </label>
          <label>
            To (UTC)
            <input type="datetime-local" name="until" value={custom && range.until ? toLocalInput(range.untilDate) : ""} />
          </label>
          <button type="submit" class={custom ? "" : "outline secondary"}>
            Show range
          </button>
        </form>
      </div>
      <p class="vital-detail">Drag across a chart to zoom in, double-click it to zoom out; the CSV links follow the zoom.</p>
      <div class="charts">
        {CHARTS.map((chart) => {
          const t = props.thresholds[chart.threshold];
          const id = `chart-${chart.metric}`;
          const csv = historyUrl(workerId, { since: range.since, until: range.until, gpu, metrics: chart.api, format: "csv" });
          return (
            <figure
              class="chart"
              id={id}
              data-worker={String(workerId)}
              data-gpu={gpu}
              data-metric={chart.metric}
              data-title={chart.title}
              data-unit={chart.unit}
              data-since={range.since}
              data-until={range.until ?? ""}
              data-points={String(CHART_POINTS)}
              data-warning={String(t.warning)}
              data-critical={String(t.critical)}
              data-threshold-of={chart.metric === "power" ? "powerLimit" : undefined}
            >
              <figcaption>
                <strong id={`${id}-title`}>{chart.title}</strong>{" "}
                <a class="chart-csv" href={csv} download="" title={`Download the ${chart.title.toLowerCase()} series shown, as CSV`}>
                  Download CSV
                </a>
              </figcaption>
              <div class="chart-plot" role="img" aria-labelledby={`${id}-title`} aria-describedby={`${id}-desc`}>
                <p class="chart-placeholder">Charts need JavaScript; the summary below and the CSV hold the same data.</p>
              </div>
              <p id={`${id}-desc`} class="chart-desc" safe>
                {describe(chart, props.stats, range, t)}
              </p>
            </figure>
          );
        })}
      </div>
      <HistorySummary stats={props.stats} range={range} />
      <p>
        <a
          class="history-csv"
          href={historyUrl(workerId, { since: range.since, until: range.until, gpu, metrics: HISTORY_METRICS, format: "csv" })}
          download=""
        >
          Download every series shown, as CSV
        </a>
      </p>
    </section>
  );
}

/** What a datetime-local input shows for an instant, in UTC as its label says. */
function toLocalInput(d: Date): string {
  return d.toISOString().slice(0, 16);
}

/** The range's figures as a table: what a browser without JavaScript sees instead of the charts, and a quick read for everyone. */
function HistorySummary(props: { stats: StatsResult | null; range: HistoryRange }): JSX.Element {
  const stats = props.stats;
  if (!stats || stats.gpus.length === 0) return <p>No history in this range.</p>;
  const memory = (v: number | null, total: number | null | undefined) =>
    v === null ? NA : `${formatBytes(mibToBytes(v))}${total ? ` (${((v / total) * 100).toFixed(0)} %)` : ""}`;
  return (
    <details class="history-summary" open>
      <summary safe>{`Summary over ${props.range.words} (${stats.tier === "raw" ? "raw samples" : `${stats.tier} rollups`})`}</summary>
      <div class="overflow-auto" tabindex="0" role="region" aria-label="History summary table">
        <table class="striped">
          <thead>
            <tr>
              <th scope="col">GPU</th>
              <th scope="col">Metric</th>
              <th scope="col" class="num">
                Min
              </th>
              <th scope="col" class="num">
                Average
              </th>
              <th scope="col" class="num">
                Max
              </th>
              <th scope="col" class="num" title={`95th percentile of ${stats.p95Of}`}>
                p95
              </th>
            </tr>
          </thead>
          <tbody>
            {stats.gpus.map((g) => {
              const m = g.metrics;
              const total = m.memoryTotal?.avg;
              const rows: [string, (v: number | null) => string, MetricStats | undefined][] = [
                ["Utilization", (v) => num(v, "%", 1), m.utilization],
                ["VRAM used", (v) => memory(v, total), m.memoryUsed],
                ["Temperature", (v) => num(v, "°C", 1), m.temperature],
                ["Power", (v) => num(v, "W", 0), m.powerUsage],
              ];
              return rows.map(([label, fmt, s]) => (
                <tr>
                  <td safe>{String(g.index)}</td>
                  <td safe>{label}</td>
                  <td class="num" safe>
                    {fmt(s?.min ?? null)}
                  </td>
                  <td class="num" safe>
                    {fmt(s?.avg ?? null)}
                  </td>
                  <td class="num" safe>
                    {fmt(s?.max ?? null)}
                  </td>
                  <td class="num" safe>
                    {fmt(s?.p95 ?? null)}
                  </td>
                </tr>
              ));
            })}
          </tbody>
        </table>
      </div>
    </details>
  );
}

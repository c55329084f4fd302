// One service in full (/health/:id): its latest result and uptime, the timeline with each window's details, recent checks (live regions), its settings.
import Html from "@kitajs/html";
import type { HealthStatus } from "../../../src/checks/checker.ts";
import type { ServiceRow } from "../../../src/health/loop.ts";
import { Cell, DataTable, TimeCell } from "../../components/data-table.tsx";
import { formatAt, span } from "../../components/format.ts";
import { partText, StateMark, TimelineBar } from "./cards.tsx";
import { checkKindLabel } from "./form-model.ts";
import {
  detailLines,
  formatLatency,
  formatUptime,
  logSourceOf,
  RANGE_DAYS,
  STATE_WORDS,
  stateOf,
  type BarPart,
  type ServiceDetailProps,
} from "./model.ts";

export const LATEST_ID = "service-latest";
export const TIMELINE_ID = "service-timeline";
export const CHECKS_ID = "service-checks";

/** The anchor of a window's details: its start, which no other window of the service shares. */
export const windowAnchor = (from: number) => `window-${from}`;

function Fact(props: { name: string; value: string }): JSX.Element {
  return (
    <>
      <dt safe>{props.name}</dt>
      <dd safe>{props.value}</dd>
    </>
  );
}

function uptimeText(u: ServiceDetailProps["uptime7d"]): string {
  if (u.percent === null) return "— (no check in the range yet)";
  const bad = [u.downMs > 0 ? `down ${span(0, u.downMs)}` : "", u.degradedMs > 0 ? `degraded ${span(0, u.degradedMs)}` : ""].filter(
    Boolean,
  );
  return `${formatUptime(u.percent)}${bad.length ? ` (${bad.join(", ")})` : ""}`;
}

/** `#service-latest`: the newest result with its details, how long the status has held, and the 7- and 30-day uptime. */
export function ServiceLatest(props: Pick<ServiceDetailProps, "latest" | "uptime7d" | "uptime30d" | "now" | "service">): JSX.Element {
  const l = props.latest;
  const state = stateOf(l);
  return (
    <section id={LATEST_ID} class={`health-section service-latest state-${state}`} aria-labelledby="service-latest-title">
      <h2 id="service-latest-title">Latest check</h2>
      <p>
        <StateMark state={state} />{" "}
        {l ? (
          <span class="service-message" safe>
            {l.message}
          </span>
        ) : (
          <span class="muted">{props.service.enabled ? "Not checked yet: the first check is under way." : "Paused: not checked."}</span>
        )}
      </p>
      <dl class="facts">
        {l ? (
          <>
            <Fact
              name={`${STATE_WORDS[state][0]!.toUpperCase()}${STATE_WORDS[state].slice(1)} for`}
              value={`${span(l.since, props.now)} (since ${formatAt(l.since)})`}
            />
            <Fact name="Latency" value={formatLatency(l.latencyMs)} />
            <Fact name="Checked" value={`${formatAt(l.at)} (${span(l.at, props.now)} ago)`} />
          </>
        ) : (
          ""
        )}
        <Fact name="Uptime, 7 days" value={uptimeText(props.uptime7d)} />
        <Fact name="Uptime, 30 days" value={uptimeText(props.uptime30d)} />
        {l?.files ? (
          <Fact name="Required files" value={l.files.ok ? "all present" : (l.files.error ?? `missing: ${l.files.missing.join(", ")}`)} />
        ) : (
          ""
        )}
      </dl>
      {l && detailLines(l.details).length > 0 ? (
        <details class="check-details">
          <summary>Details of this result</summary>
          <dl class="facts">
            {detailLines(l.details).map((d) => (
              <Fact name={d.key} value={d.value} />
            ))}
          </dl>
        </details>
      ) : (
        ""
      )}
    </section>
  );
}

function rangeWords(days: number): string {
  return days === 1 ? "24 hours" : `${days} days`;
}

/** A status that held from `from` to `to` (null: still holds), as a status window or an incident; `row`: the row's own attributes. */
interface Period {
  status: HealthStatus;
  from: number;
  to: number | null;
  durationMs: number;
  message?: string;
  row: { id?: string; class: string; title?: string };
}

function PeriodTable(props: { class: string; periods: readonly Period[] }): JSX.Element {
  return (
    <DataTable class={`health-table ${props.class}`} columns={["Status", "Start", "End", "Duration", "Message"]}>
      {props.periods.map((p) => (
        <tr id={p.row.id} class={`${p.row.class} state-${p.status}`} title={p.row.title}>
          <td data-label="Status">
            <StateMark state={p.status} />
          </td>
          <TimeCell label="Start" at={p.from} />
          <TimeCell label="End" at={p.to} none="ongoing" />
          <Cell label="Duration" class="num" text={span(0, p.durationMs)} />
          <Cell label="Message" class="text" text={p.message || "—"} />
        </tr>
      ))}
    </DataTable>
  );
}

/** `#service-timeline`: the chosen range's bar (each window a link to its details below), the windows, and the incidents. */
export function ServiceTimeline(
  props: Pick<ServiceDetailProps, "service" | "days" | "timeline" | "bar" | "incidents" | "now">,
): JSX.Element {
  const windows = [...props.timeline].reverse().slice(0, 200);
  const link = (p: BarPart) => `#${windowAnchor(p.from)}`;
  return (
    <section id={TIMELINE_ID} class="health-section" aria-labelledby="service-timeline-title">
      <h2 id="service-timeline-title" safe>{`Timeline, last ${rangeWords(props.days)}`}</h2>
      <nav aria-label="Range" class="range-links">
        <ul>
          {RANGE_DAYS.map((d) => (
            <li>
              <a
                href={`/health/${props.service.id}?days=${d}#${TIMELINE_ID}`}
                aria-current={d === props.days ? "page" : undefined}
                class={d === props.days ? "current" : undefined}
                safe
              >
                {rangeWords(d)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <TimelineBar parts={props.bar} link={link} label={`Status windows over the last ${rangeWords(props.days)}`} />
      <p class="timeline-scale">
        <span safe>{`${rangeWords(props.days)} ago`}</span>
        <span>now</span>
      </p>
      <h3>Status windows</h3>
      {windows.length === 0 ? (
        <p class="muted">No result in this range yet.</p>
      ) : (
        <PeriodTable
          class="windows"
          periods={windows.map((w) => ({
            status: w.status,
            from: w.from,
            to: w.ongoing ? null : w.to,
            durationMs: w.to - w.from,
            message: w.message,
            row: { id: windowAnchor(w.from), class: "window", title: partText({ ...w, state: w.status, width: 0 }) },
          }))}
        />
      )}
      <h3 safe>{`Incidents (${props.incidents.length})`}</h3>
      {props.incidents.length === 0 ? (
        <p class="muted" safe>{`Neither down nor degraded in the last ${rangeWords(props.days)}.`}</p>
      ) : (
        <PeriodTable
          class="incidents"
          periods={props.incidents.map((x) => ({
            status: x.status,
            from: x.startedAt,
            to: x.endedAt,
            durationMs: x.durationMs,
            message: x.message,
            row: { class: "incident" },
          }))}
        />
      )}
    </section>
  );
}

/** `#service-checks`: the last 50 results, newest first. */
export function ServiceChecks(props: Pick<ServiceDetailProps, "checks">): JSX.Element {
  return (
    <section id={CHECKS_ID} class="health-section" aria-labelledby="service-checks-title">
      <h2 id="service-checks-title" safe>{`Recent checks (${props.checks.length})`}</h2>
      {props.checks.length === 0 ? (
        <p class="muted">No check has run yet.</p>
      ) : (
        <DataTable class="health-table checks" columns={["When", "Status", "Latency", "Message"]}>
          {props.checks.map((c) => {
            const state = c.status === "healthy" || c.status === "degraded" || c.status === "down" ? c.status : "unknown";
            return (
              <tr class={`check-row state-${state}`}>
                <TimeCell label="When" at={c.at} />
                <td data-label="Status">
                  <StateMark state={state} />
                </td>
                <Cell label="Latency" class="num" text={formatLatency(c.latencyMs)} />
                <Cell label="Message" class="text" text={c.message || "—"} />
              </tr>
            );
          })}
        </DataTable>
      )}
    </section>
  );
}

/** The service's settings as stored (config values are the operator's own; headers may hold a token, so only their names show). */
export function ServiceSettings(props: { service: ServiceRow; workerName: string | null }): JSX.Element {
  const s = props.service;
  const config = Object.entries(s.config).map(([k, v]) => ({
    key: k,
    value:
      k === "headers" && typeof v === "object" && v !== null
        ? `${Object.keys(v).join(", ")} (values hidden)`
        : typeof v === "string"
          ? v
          : JSON.stringify(v),
  }));
  return (
    <section class="health-section" aria-labelledby="service-settings-title">
      <h2 id="service-settings-title">Settings</h2>
      <dl class="facts">
        <Fact name="Kind" value={`${checkKindLabel(s.kind)} (${s.kind})`} />
        <Fact
          name="Runs"
          value={props.workerName ? `on worker ${props.workerName}` : s.workerId !== null ? `on worker ${s.workerId}` : "from the head"}
        />
        {config.map((c) => (
          <Fact name={c.key} value={c.value} />
        ))}
        <Fact name="Interval" value={`every ${s.intervalSeconds} s`} />
        <Fact name="Timeout" value={`${s.timeoutSeconds} s`} />
        <Fact name="Degraded above" value={s.degradedLatencyMs === null ? "never (latency alone)" : `${s.degradedLatencyMs} ms`} />
        <Fact name="Critical" value={s.critical ? "yes: pre-flight needs it healthy" : "no"} />
        <Fact name="Escalation delay" value={`${s.escalationSeconds} s`} />
        <Fact name="Required files" value={s.requiredFiles.length ? s.requiredFiles.join(", ") : "none"} />
        <Fact name="Log" value={logSourceOf(s) ?? "none"} />
        <Fact name="Enabled" value={s.enabled ? "yes" : "no: paused"} />
        <Fact name="Changed" value={`${formatAt(s.updatedAt)}${s.updatedBy ? ` by ${s.updatedBy}` : ""}`} />
      </dl>
    </section>
  );
}

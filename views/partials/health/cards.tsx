// The service cards on /health (a live region, src/live/regions/health.tsx): each coloured by its state, with its latency, last check, 7-day uptime and a 24-hour bar.
import Html from "@kitajs/html";
import { formatAgo, formatAt, span } from "../../components/format.ts";
import { checkKindLabel } from "./form-model.ts";
import { formatLatency, formatUptime, STATE_WORDS, stateOf, type BarPart, type HealthRegionProps, type ServiceState } from "./model.ts";

export const SERVICES_ID = "health-services";

export function StateMark(props: { state: ServiceState }): JSX.Element {
  return (
    <mark class={`state state-${props.state}`} safe>
      {STATE_WORDS[props.state]}
    </mark>
  );
}

/** A part's tooltip and accessible name: "down from 2026-11-23 10:02:00 UTC to now (7m 0s): connection refused". */
export function partText(p: BarPart): string {
  const what = p.state === "unknown" ? "no result" : STATE_WORDS[p.state];
  const end = p.ongoing ? "now" : formatAt(p.to);
  return `${what} from ${formatAt(p.from)} to ${end} (${span(p.from, p.to)})${p.message ? `: ${p.message}` : ""}`;
}

/**
 * A timeline bar: coloured parts with widths from the stylesheet's w0..w100 classes. `link` turns each window into a link
 * to its details on the page (the detail page's timeline); the card's small bar is a picture with a text alternative.
 */
export function TimelineBar(props: { parts: readonly BarPart[]; label: string; link?: (p: BarPart) => string }): JSX.Element {
  return (
    <div class="timeline" role={props.link ? "group" : "img"} aria-label={props.label}>
      {props.parts.map((p) => {
        const cls = `timeline-part state-${p.state} w${p.width}`;
        const title = partText(p);
        return props.link && p.state !== "unknown" ? (
          <a class={cls} href={props.link(p)} title={title} aria-label={title}></a>
        ) : (
          <span class={cls} title={title}></span>
        );
      })}
    </div>
  );
}

function ServiceCard(props: { v: HealthRegionProps["cards"][number]; now: number }): JSX.Element {
  const { service: s, latest } = props.v;
  const state = stateOf(latest);
  const down = props.v.bar.filter((p) => p.state === "down" || p.state === "degraded").length;
  return (
    <article id={`service-${s.id}`} class={`service-card state-${state}${s.enabled ? "" : " disabled"}`} data-state={state}>
      <header>
        <a href={`/health/${s.id}`} class="service-name" safe>
          {s.name}
        </a>
        <StateMark state={state} />
        {s.critical ? (
          <span class="badge critical-badge" title="Pre-flight needs it healthy">
            critical
          </span>
        ) : (
          ""
        )}
        {s.enabled ? "" : <span class="badge">paused</span>}
      </header>
      <p class="service-kind" safe>
        {`${checkKindLabel(s.kind)}${props.v.workerName ? ` on ${props.v.workerName}` : ""}`}
      </p>
      {latest ? (
        <>
          <p class="service-message" safe>
            {latest.message}
          </p>
          <dl class="service-facts">
            <div>
              <dt>For</dt>
              <dd>
                <time datetime={new Date(latest.since).toISOString()} title={`since ${formatAt(latest.since)}`} safe>
                  {span(latest.since, props.now)}
                </time>
              </dd>
            </div>
            <div>
              <dt>Latency</dt>
              <dd safe>{formatLatency(latest.latencyMs)}</dd>
            </div>
            <div>
              <dt>Checked</dt>
              <dd>
                <time datetime={new Date(latest.at).toISOString()} title={formatAt(latest.at)} safe>
                  {formatAgo(new Date(latest.at).toISOString(), props.now)}
                </time>
              </dd>
            </div>
            <div>
              <dt>7 days</dt>
              <dd safe>{formatUptime(props.v.uptime7d)}</dd>
            </div>
          </dl>
        </>
      ) : (
        <p class="service-message muted">{s.enabled ? "Not checked yet: the first check is under way." : "Paused: not checked."}</p>
      )}
      <TimelineBar
        parts={props.v.bar}
        label={`Last 24 hours: ${down === 0 ? "no problem recorded" : `${down} stretch${down === 1 ? "" : "es"} degraded or down`}`}
      />
      <p class="timeline-scale">
        <span>24 h ago</span>
        <span>now</span>
      </p>
    </article>
  );
}

/** `#health-services`: every service's card, by name; the worst first would reorder cards under the reader's eyes. */
export function ServiceCards(props: Pick<HealthRegionProps, "cards" | "now">): JSX.Element {
  const count = (st: ServiceState) => props.cards.filter((c) => stateOf(c.latest) === st).length;
  const problems = count("down") + count("degraded");
  return (
    <section id={SERVICES_ID} class="health-section" aria-labelledby="health-services-title">
      <h2 id="health-services-title" safe>
        {`Services (${props.cards.length})`}
      </h2>
      <p class="health-summary" safe>
        {props.cards.length === 0
          ? "No service is checked."
          : problems === 0
            ? `All ${props.cards.length - count("unknown")} checked services are healthy.`
            : `${count("down")} down, ${count("degraded")} degraded, ${count("healthy")} healthy.`}
      </p>
      <div class="service-cards">
        {props.cards.map((v) => (
          <ServiceCard v={v} now={props.now} />
        ))}
      </div>
    </section>
  );
}

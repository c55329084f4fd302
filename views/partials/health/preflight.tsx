// The pre-flight checklist at the top of /health (a live region): ready or not, each item's state and message, overrides with who, why and until; admins' override and cancel forms.
import Html from "@kitajs/html";
import type { PreflightItem } from "../../../src/health/preflight.ts";
import { formatAt } from "../../components/format.ts";
import type { HealthRegionProps } from "./model.ts";

export const PREFLIGHT_ID = "health-preflight";

/** How long an override lasts, as the form offers it (addOverride allows 1 minute to 7 days). */
export const OVERRIDE_DURATIONS: Record<string, { minutes: number; label: string }> = {
  "30m": { minutes: 30, label: "30 minutes" },
  "1h": { minutes: 60, label: "1 hour" },
  "4h": { minutes: 240, label: "4 hours" },
  "24h": { minutes: 1440, label: "24 hours" },
  "7d": { minutes: 10_080, label: "7 days" },
};

/** The last override attempt, when a POST is answered with the page: which item, the problem, what was typed. */
export interface OverrideFormState {
  check: string;
  error: string;
  values: { reason: string; duration: string };
}

const CHECK_WORDS: Record<PreflightItem["state"], string> = { pass: "pass", fail: "fail", pending: "pending" };

/** The override form id of an item: item names hold ":" and spaces, so the id is the item's position. */
function OverrideForm(props: { item: PreflightItem; index: number; form?: OverrideFormState }): JSX.Element {
  const mine = props.form?.check === props.item.name ? props.form : undefined;
  const duration = mine && mine.values.duration in OVERRIDE_DURATIONS ? mine.values.duration : "1h";
  const id = `override-${props.index}`;
  return (
    <details class="override-dialog" id={id} open={mine ? true : undefined}>
      <summary role="button" class="outline secondary">
        Override…
      </summary>
      {mine ? (
        <p class="notice notice-error" role="alert" safe>
          {mine.error}
        </p>
      ) : (
        ""
      )}
      <form method="post" action="/health/overrides" class="override-form" hx-post="/health/overrides" hx-swap="none">
        <input type="hidden" name="check" value={props.item.name} />
        <label>
          Reason <small>(shown here and kept in the audit log)</small>
          <input
            type="text"
            name="reason"
            required
            maxlength="2000"
            placeholder="maintenance night, jobs paused"
            value={mine?.values.reason ?? ""}
          />
        </label>
        <label>
          For
          <select name="duration">
            {Object.entries(OVERRIDE_DURATIONS).map(([value, d]) => (
              <option value={value} selected={value === duration} safe>
                {d.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="override-submit">
          Let the gate open anyway
        </button>
      </form>
    </details>
  );
}

function CancelOverrideForm(props: { id: number }): JSX.Element {
  const action = `/health/overrides/${props.id}/cancel`;
  return (
    <form method="post" action={action} class="inline" hx-post={action} hx-swap="none">
      <button type="submit" class="outline secondary cancel-override">
        Cancel
      </button>
    </form>
  );
}

function Item(props: {
  item: PreflightItem;
  index: number;
  admin: boolean;
  overrideId: number | undefined;
  form?: OverrideFormState;
}): JSX.Element {
  const it = props.item;
  const o = it.override;
  const shown = o ? "overridden" : it.state;
  return (
    <li class={`preflight-item state-${it.state}${o ? " overridden" : ""}`} data-check={it.name}>
      <mark class={`check-state check-${shown}`} safe>
        {o ? "overridden" : CHECK_WORDS[it.state]}
      </mark>
      <div class="preflight-text">
        <strong safe>{it.label}</strong>
        {it.critical ? "" : <small class="muted"> (optional)</small>}
        <br />
        <span class="preflight-message" safe>
          {it.message}
        </span>
        {o ? (
          <p class="override-note">
            {/* No countdown: the region would change, and be sent, every second. */}
            <span safe>{`Overridden by ${o.by} until ${formatAt(new Date(o.expiresAt))}: `}</span>
            <q safe>{o.reason}</q>
            {props.admin && props.overrideId !== undefined ? <CancelOverrideForm id={props.overrideId} /> : ""}
          </p>
        ) : (
          ""
        )}
        {/* Only critical items hold the gate shut, so only they can be overridden. */}
        {props.admin && it.critical && it.state !== "pass" && !o ? <OverrideForm item={it} index={props.index} form={props.form} /> : ""}
      </div>
    </li>
  );
}

/** `#health-preflight`: the checklist the readiness gate (GET /api/v1/ready) answers from. */
export function PreflightChecklist(
  props: Pick<HealthRegionProps, "preflight" | "overrideIds" | "now" | "admin"> & { form?: OverrideFormState },
): JSX.Element {
  const p = props.preflight;
  return (
    <section id={PREFLIGHT_ID} class={`health-section preflight ${p.ready ? "ready" : "not-ready"}`} aria-labelledby="preflight-title">
      <h2 id="preflight-title">Pre-flight checklist</h2>
      <p class={`preflight-verdict ${p.ready ? "verdict-ready" : "verdict-not-ready"}`} safe>
        {p.ready
          ? "Ready: every critical check passes or is overridden. GET /api/v1/ready answers 200."
          : `Not ready: ${p.failing.length} critical check${p.failing.length === 1 ? "" : "s"} ${p.failing.length === 1 ? "holds" : "hold"} the gate shut. GET /api/v1/ready answers 503.`}
      </p>
      <ul class="preflight-items">
        {p.items.map((it, i) => (
          <Item item={it} index={i} admin={props.admin} overrideId={props.overrideIds.get(it.name)} form={props.form} />
        ))}
      </ul>
    </section>
  );
}

// Restarts on the worker page: the admins' restart form (a plain POST, no script needed) and the restart history with live progress (a region).
import Html from "@kitajs/html";
import type { RestartRow } from "../../../src/fleet/restarts.ts";
import { formatAgo } from "../../components/format.ts";
import { formatTime, type WorkerRegionProps } from "./model.ts";

/** The path a restart normally walks; `refused` and `failed` end it early, a forced restart skips `waiting`. */
export const RESTART_STEPS = ["initiated", "waiting", "stopping", "restarting", "completed"] as const;
const FINAL = new Set(["completed", "failed", "refused"]);
const STATE_LEVEL: Record<string, string> = { completed: "ok", failed: "critical", refused: "critical" };

type StepState = "done" | "current" | "skipped" | "todo";

/** Each step of the path with what became of it, the end replaced by `failed` or `refused` when it ended so. */
export function restartProgress(
  r: Pick<RestartRow, "state" | "events">,
): { step: string; state: StepState; at?: string; message?: string }[] {
  const seen = new Map(r.events.map((e) => [e.state, e] as const));
  const ended = r.state === "failed" || r.state === "refused";
  const steps: string[] = [...RESTART_STEPS];
  if (ended) steps[steps.length - 1] = r.state;
  const current = steps.indexOf(r.state);
  const lastSeen = Math.max(-1, ...steps.map((s, i) => (seen.has(s) && s !== r.state ? i : -1)));
  return steps.map((step, i) => {
    const e = seen.get(step);
    // Passed over (a forced restart does not wait) versus never reached (refused or failed before it).
    const passed = i < lastSeen || (!ended && i < current);
    const state: StepState = step === r.state ? (FINAL.has(step) ? "done" : "current") : e ? "done" : passed ? "skipped" : "todo";
    return { step, state, at: e?.at, message: e?.message };
  });
}

function RestartItem(props: { r: RestartRow; now: number }): JSX.Element {
  const r = props.r;
  const active = !FINAL.has(r.state);
  return (
    <article class="restart" data-restart={String(r.id)} aria-busy={active ? "true" : undefined}>
      <header>
        <strong class="mono" safe>
          {r.service}
        </strong>{" "}
        <mark class={`restart-state level-${STATE_LEVEL[r.state] ?? "warning"}`} safe>
          {r.state}
        </mark>
        {r.force ? <mark class="restart-state level-critical">forced</mark> : ""}{" "}
        <small>
          <span safe>{`by ${r.requestedBy}, `}</span>
          <time datetime={r.requestedAt.toISOString()} title={formatTime(r.requestedAt)} safe>
            {formatAgo(r.requestedAt.toISOString(), props.now)}
          </time>
        </small>
      </header>
      {r.reason ? (
        <p class="restart-reason" safe>
          {`Reason: ${r.reason}`}
        </p>
      ) : (
        ""
      )}
      <ol class="restart-steps" aria-label="Progress">
        {restartProgress(r).map((s) => (
          <li class={`step step-${s.state}`} aria-current={s.state === "current" ? "step" : undefined}>
            <span class="step-name" safe>
              {s.step}
            </span>
            {s.at ? (
              <time datetime={s.at} safe>
                {formatTime(s.at).slice(11)}
              </time>
            ) : (
              <span class="step-note">{s.state === "skipped" ? "skipped" : ""}</span>
            )}
            {s.message ? (
              <span class="step-note" safe>
                {s.message}
              </span>
            ) : (
              ""
            )}
          </li>
        ))}
      </ol>
      {r.message && !r.events.some((e) => e.message === r.message) ? (
        <p class="restart-message" safe>
          {r.message}
        </p>
      ) : (
        ""
      )}
    </article>
  );
}

/** The restart history and progress, `#restart-status`: newest first, each request with the steps it passed through. */
export function RestartStatus(props: Pick<WorkerRegionProps, "restarts" | "now">): JSX.Element {
  return (
    <section id="restart-status" aria-labelledby="restart-status-title" aria-live="polite">
      <h2 id="restart-status-title">Restarts</h2>
      {props.restarts.length === 0 ? (
        <p>No restart has been asked of this worker.</p>
      ) : (
        props.restarts.map((r) => <RestartItem r={r} now={props.now} />)
      )}
    </section>
  );
}

export interface RestartFormProps {
  workerId: number;
  /** The units the worker's agent allows (as it last said). */
  services: readonly string[];
  /** Whether the agent holds a connection to this head now: a restart can only be sent then. */
  connected: boolean;
  /** The last attempt's problem, shown above the form (which then stays open). */
  error?: string;
  /** What was filled in before the error, so it is not lost. */
  values?: { service?: string; reason?: string; force?: boolean };
}

/** Admins only: the caller decides. A disclosure, so it opens and submits with no script at all. */
export function RestartForm(props: RestartFormProps): JSX.Element {
  const v = props.values ?? {};
  return (
    <details class="restart-dialog" id="restart" open={props.error ? true : undefined}>
      <summary role="button" class="outline">
        Restart a service…
      </summary>
      <article>
        {props.error ? (
          <p class="notice notice-error" role="alert" safe>
            {props.error}
          </p>
        ) : (
          ""
        )}
        {props.services.length === 0 ? (
          <p>
            This worker's agent allows no restarts. To allow some, set <code>VIGIL_RESTART_ALLOW=unit.service,other.service</code> (or list
            units one per line in the file named by <code>VIGIL_RESTART_ALLOW_FILE</code>) in the agent's environment on the worker, then
            restart the agent; its units then appear here.
          </p>
        ) : (
          <form method="post" action={`/workers/${props.workerId}/restart`} class="restart-form">
            {props.connected ? (
              ""
            ) : (
              <p class="level-warning">The agent is not connected to this head right now, so a restart cannot be sent until it is back.</p>
            )}
            <label>
              Service
              <select name="service" required>
                {props.services.map((s) => (
                  <option value={s} selected={s === v.service} safe>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Reason <small>(kept in the audit log)</small>
              <textarea name="reason" rows="2" maxlength="2000" placeholder="stuck after an out-of-memory error" safe>
                {v.reason ?? ""}
              </textarea>
            </label>
            <label>
              <input
                type="checkbox"
                name="force"
                value="on"
                id="restart-force"
                role="switch"
                checked={v.force ? true : undefined}
                aria-describedby="restart-force-help restart-force-warning"
              />
              Force: restart at once
            </label>
            <p id="restart-force-help" class="vital-detail">
              Without force, the agent first waits (up to 10 minutes) for the service's GPU processes to finish.
            </p>
            <p id="restart-force-warning" class="force-warning" role="note">
              Forcing kills the service's running GPU jobs mid-way: their unsaved work is lost and their users get no warning.
            </p>
            <button type="submit" class="restart-submit">
              Restart
            </button>
          </form>
        )}
      </article>
    </details>
  );
}

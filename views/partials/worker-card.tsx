// One worker's card on the fleet page: status, per-GPU gauges coloured by threshold, a sparkline of recent load, host summary.
import Html from "@kitajs/html";
import type { Severity } from "../../src/alerts/notification.ts";
import { DEFAULT_THRESHOLDS, levelOf, type Thresholds } from "../../src/alerts/thresholds.ts";
import type { WorkerSummary } from "../../src/fleet/workers.ts";
import type { RecentPoint } from "../../src/ingest/latest.ts";
import type { GpuVitals, Sample } from "../../src/protocol/sample.ts";
import { formatAgo, formatBytes, formatPercent, NA } from "../components/format.ts";
import { Gauge, Sparkline } from "../components/gauge.tsx";

export interface CardData {
  worker: WorkerSummary;
  sample: Sample | null;
  recent: readonly RecentPoint[];
  /** Registered by `vigil simulate`: shown as such wherever the worker appears. */
  simulated: boolean;
  thresholds?: Thresholds;
  /** The worker's firing alerts: how many, and the worst severity among them; absent or 0: none. */
  firing?: { count: number; severity: Severity };
}

const pct = (used: number | null | undefined, total: number | null | undefined) =>
  used === null || used === undefined || !total ? null : (used / total) * 100;

/** The GPU's busiest level across its gauges: the card's border says the worst at a glance. */
export function gpuLevel(g: GpuVitals, t: Thresholds = DEFAULT_THRESHOLDS) {
  if (g.lost) return "critical";
  const levels = [
    levelOf(g.utilization, t.utilization),
    levelOf(pct(g.memoryUsed, g.memoryTotal), t.memoryPercent),
    levelOf(g.temperature, t.temperature),
    levelOf(pct(g.powerUsage, g.powerLimit), t.powerPercent),
  ];
  return levels.includes("critical") ? "critical" : levels.includes("warning") ? "warning" : "ok";
}

export function GpuRow(props: { gpu: GpuVitals; thresholds: Thresholds }): JSX.Element {
  const g = props.gpu;
  const t = props.thresholds;
  const label = `GPU ${g.index}`;
  if (g.lost) {
    return (
      <div class="gpu-row level-critical">
        <span class="gpu-name" safe>
          {label}
        </span>
        <span class="gpu-lost">fell off the bus (GPU lost): needs a reset or a reboot</span>
      </div>
    );
  }
  const mem = pct(g.memoryUsed, g.memoryTotal);
  const power = pct(g.powerUsage, g.powerLimit);
  return (
    <div class={`gpu-row level-${gpuLevel(g, t)}`} title={g.name}>
      <span class="gpu-name" safe>
        {label}
      </span>
      <Gauge label="Util" percent={g.utilization} text={formatPercent(g.utilization)} threshold={t.utilization} />
      <Gauge
        label="VRAM"
        percent={mem}
        text={
          g.memoryUsed === null || g.memoryTotal === null
            ? NA
            : `${(g.memoryUsed / 1024).toFixed(1)} / ${(g.memoryTotal / 1024).toFixed(0)} GiB`
        }
        threshold={t.memoryPercent}
      />
      <Gauge
        label="Temp"
        percent={g.temperature}
        value={g.temperature}
        text={g.temperature === null ? NA : `${g.temperature} °C`}
        threshold={t.temperature}
      />
      <Gauge
        label="Power"
        percent={power}
        text={g.powerUsage === null ? NA : `${Math.round(g.powerUsage)}${g.powerLimit ? ` / ${Math.round(g.powerLimit)}` : ""} W`}
        threshold={t.powerPercent}
      />
    </div>
  );
}

/** "2 critical": the worker's firing alerts at a glance, linking to them. vigil.css's status colours: the fleet page loads no alerts.css. */
export function FiringBadge(props: { workerId: number; firing: CardData["firing"] }): JSX.Element {
  const f = props.firing;
  if (!f || f.count === 0) return <></>;
  return (
    <a
      href={`/alerts?worker=${props.workerId}`}
      class={`badge alert-count ${f.severity === "critical" ? "status-offline" : "status-stale"}`}
      title={`${f.count} alert${f.count === 1 ? "" : "s"} firing, the worst ${f.severity}: open them`}
      safe
    >
      {`${f.count} ${f.severity}`}
    </a>
  );
}

export function WorkerCard(props: CardData & { now?: number }): JSX.Element {
  const { worker, sample } = props;
  const t = props.thresholds ?? DEFAULT_THRESHOLDS;
  const offline = worker.status === "offline" || worker.status === "never-seen";
  const level = offline
    ? "offline"
    : sample
      ? sample.gpus.some((g) => gpuLevel(g, t) === "critical")
        ? "critical"
        : sample.gpus.some((g) => gpuLevel(g, t) === "warning")
          ? "warning"
          : "ok"
      : "unknown";
  const h = sample?.host;
  const trail = props.recent.map((p) => p.gpuUtilization ?? p.cpuPercent);
  const trailLabel = sample && sample.gpus.length ? "mean GPU utilization, last 60 samples" : "CPU, last 60 samples";
  return (
    <article class={`worker-card card-${level}`} id={`worker-${worker.id}`} data-worker={String(worker.id)}>
      <header>
        <a href={`/workers/${worker.id}`} class="worker-name" safe>
          {worker.name}
        </a>
        <span class={`badge status-${worker.status}`}>{worker.status === "never-seen" ? "never seen" : worker.status}</span>
        <FiringBadge workerId={worker.id} firing={props.firing} />
        {props.simulated ? (
          <span class="badge simulated" title="Synthetic data from vigil simulate">
            simulated
          </span>
        ) : (
          ""
        )}
        <span class="gpu-count" safe>{`${worker.gpuCount} GPU${worker.gpuCount === 1 ? "" : "s"}`}</span>
      </header>
      {offline ? (
        <p class="offline-note">
          {worker.lastSeenAt
            ? `Offline since ${new Date(worker.lastSeenAt).toISOString().replace("T", " ").slice(0, 19)} UTC (${formatAgo(worker.lastSeenAt, props.now)}); its last readings are not shown as current.`
            : "Never seen: its agent has not sent a sample yet."}
        </p>
      ) : !sample ? (
        <p class="offline-note">Waiting for the first sample…</p>
      ) : (
        <>
          {worker.status === "stale" ? (
            <p
              class="stale-note"
              safe
            >{`Late: last sample ${formatAgo(worker.lastSeenAt, props.now)}; values below may be out of date.`}</p>
          ) : (
            ""
          )}
          {sample.gpus.length === 0 ? (
            <p class="no-gpu" safe>{`No GPU: ${sample.gpuError ?? (sample.gpuSource === "none" ? "no GPU found" : "none reported")}`}</p>
          ) : (
            <div class="gpu-rows">
              {sample.gpus.map((g) => (
                <GpuRow gpu={g} thresholds={t} />
              ))}
            </div>
          )}
          <footer>
            <Sparkline values={trail} label={trailLabel} />
            <span class="host-summary" safe>
              {`CPU ${formatPercent(h?.cpuPercent)} · RAM ${h && h.memoryUsed !== null && h.memoryTotal !== null ? `${formatBytes(h.memoryUsed)} / ${formatBytes(h.memoryTotal)}` : NA} · ${formatAgo(worker.lastSeenAt, props.now)}`}
            </span>
          </footer>
        </>
      )}
    </article>
  );
}

// Host beside GPU, row by row (a live region): CPU ↔ utilization, RAM ↔ VRAM, swap ↔ temperature, disk ↔ power, I/O ↔ device.
import Html from "@kitajs/html";
import type { Threshold } from "../../../src/alerts/thresholds.ts";
import type { GpuRecord } from "../../../src/fleet/gpus.ts";
import type { GpuVitals, HostVitals } from "../../../src/protocol/sample.ts";
import { formatBytes, formatPercent, NA } from "../../components/format.ts";
import { Gauge } from "../../components/gauge.tsx";
import { formatTime, isLive, mibToBytes, num, percentOf, rate, shownGpus, type GpuChoice, type WorkerRegionProps } from "./model.ts";

/** CPU load has no "too high" on a machine that exists to compute: its gauge is never coloured. */
const NEVER: Threshold = { warning: Number.POSITIVE_INFINITY, critical: Number.POSITIVE_INFINITY };

/** The five rows, in the order the issue pairs them. */
const ROWS = [
  { host: "CPU", gpu: "Utilization" },
  { host: "Memory", gpu: "VRAM" },
  { host: "Swap", gpu: "Temperature" },
  { host: "Disk", gpu: "Power" },
  { host: "Disk and network I/O", gpu: "Device" },
] as const;

type HostCell = (h: HostVitals | undefined, p: WorkerRegionProps) => JSX.Element;
type GpuCell = (
  g: GpuVitals | undefined,
  choice: GpuChoice,
  record: GpuRecord | undefined,
  p: WorkerRegionProps,
  compact: boolean,
) => JSX.Element;

function Detail(props: { text: string }): JSX.Element {
  return (
    <p class="vital-detail" safe>
      {props.text}
    </p>
  );
}

const HOST_CELLS: HostCell[] = [
  (h) => (
    <>
      <Gauge label="CPU" percent={h?.cpuPercent} text={formatPercent(h?.cpuPercent)} threshold={NEVER} />
      <Detail
        text={[
          `load ${h?.load ? h.load.map((l) => l.toFixed(2)).join(" ") : NA}`,
          h?.cpuCores ? `${h.cpuCores} CPUs` : "",
          h?.cpuTemperature !== undefined ? `CPU ${num(h.cpuTemperature, "°C")}` : "",
        ]
          .filter(Boolean)
          .join(" · ")}
      />
    </>
  ),
  (h, p) => (
    <Gauge
      label="Memory"
      percent={percentOf(h?.memoryUsed, h?.memoryTotal)}
      text={`${formatBytes(h?.memoryUsed)} / ${formatBytes(h?.memoryTotal)}`}
      threshold={p.thresholds.memoryPercent}
    />
  ),
  (h, p) =>
    h && h.swapTotal === 0 ? (
      <Detail text="Swap: none configured" />
    ) : (
      <Gauge
        label="Swap"
        percent={percentOf(h?.swapUsed, h?.swapTotal)}
        text={`${formatBytes(h?.swapUsed)} / ${formatBytes(h?.swapTotal)}`}
        threshold={p.thresholds.memoryPercent}
      />
    ),
  (h, p) => {
    // The fullest mount is the one that will stop the machine first; every mount is in the storage panel.
    const disks = h?.disks ?? [];
    const fullest = [...disks].sort((a, b) => (percentOf(b.used, b.total) ?? -1) - (percentOf(a.used, a.total) ?? -1))[0];
    return (
      <>
        <Gauge
          label={fullest ? `Disk ${fullest.mount}` : "Disk"}
          percent={percentOf(fullest?.used, fullest?.total)}
          text={`${formatBytes(fullest?.used)} / ${formatBytes(fullest?.total)}`}
          threshold={p.thresholds.memoryPercent}
        />
        <Detail
          text={disks.length > 1 ? `fullest of ${disks.length} mounts (see Storage)` : disks.length === 0 ? "no mounts reported" : ""}
        />
      </>
    );
  },
  (h) => (
    <dl class="vital-pairs">
      <dt>Disk read / write</dt>
      <dd safe>{`${rate(h?.diskReadBps)} / ${rate(h?.diskWriteBps)}`}</dd>
      <dt>Network in / out</dt>
      <dd safe>{`${rate(h?.netRxBps)} / ${rate(h?.netTxBps)}`}</dd>
    </dl>
  ),
];

const gpuLabel = (choice: GpuChoice, what: string, compact: boolean) => (compact ? `GPU ${choice.index} ${what.toLowerCase()}` : what);

const GPU_CELLS: GpuCell[] = [
  (g, c, _r, p, compact) => (
    <>
      <Gauge
        label={gpuLabel(c, "Utilization", compact)}
        percent={g?.utilization}
        text={formatPercent(g?.utilization)}
        threshold={p.thresholds.utilization}
      />
      {compact ? "" : <Detail text={`memory controller ${formatPercent(g?.memoryUtilization)}`} />}
    </>
  ),
  (g, c, r, p, compact) => {
    const total = g?.memoryTotal ?? r?.memoryTotalMiB ?? null;
    return (
      <Gauge
        label={gpuLabel(c, "VRAM", compact)}
        percent={percentOf(g?.memoryUsed, total)}
        text={`${formatBytes(mibToBytes(g?.memoryUsed))} / ${formatBytes(mibToBytes(total))}`}
        threshold={p.thresholds.memoryPercent}
      />
    );
  },
  (g, c, _r, p, compact) => (
    <>
      <Gauge
        label={gpuLabel(c, "Temperature", compact)}
        percent={g?.temperature}
        value={g?.temperature ?? null}
        text={num(g?.temperature, "°C")}
        threshold={p.thresholds.temperature}
      />
      {compact ? (
        ""
      ) : (
        <Detail
          text={`memory ${num(g?.memoryTemperature, "°C")} · fan ${g?.fanSpeed === null || g?.fanSpeed === undefined ? NA : formatPercent(g.fanSpeed)}`}
        />
      )}
    </>
  ),
  (g, c, r, p, compact) => {
    const limit = g?.powerLimit ?? null;
    return (
      <>
        <Gauge
          label={gpuLabel(c, "Power", compact)}
          percent={percentOf(g?.powerUsage, limit)}
          text={`${num(g?.powerUsage, "W")} / ${num(limit, "W")}`}
          threshold={p.thresholds.powerPercent}
        />
        {compact ? "" : <Detail text={`default limit ${num(g?.powerLimitDefault ?? r?.powerLimitDefaultW, "W")}`} />}
      </>
    );
  },
  (g, c, r, _p, compact) => (
    <dl class="vital-pairs">
      {compact ? (
        ""
      ) : (
        <>
          <dt>Model</dt>
          <dd safe>{c.name}</dd>
          <dt>UUID</dt>
          <dd class="mono" safe>
            {c.uuid}
          </dd>
        </>
      )}
      <dt>Driver / CUDA</dt>
      <dd safe>{`${g?.driverVersion ?? r?.driverVersion ?? NA} / ${g?.cudaVersion ?? r?.cudaVersion ?? NA}`}</dd>
      <dt>P-state</dt>
      <dd safe>{g?.pstate === null || g?.pstate === undefined ? NA : `P${g.pstate}`}</dd>
      <dt>Processes</dt>
      <dd>{g ? String(g.processes.length) : NA}</dd>
    </dl>
  ),
];

/** A GPU that fell off the bus reports nothing else: the column says so instead of a row of N/A. */
function lostNote(g: GpuVitals | undefined): JSX.Element {
  return g?.lost ? (
    <p class="level-critical vital-lost" role="alert">
      GPU lost: it fell off the bus (NVML_ERROR_GPU_IS_LOST); a reboot or reset usually brings it back.
    </p>
  ) : (
    <></>
  );
}

function NoGpu(props: WorkerRegionProps): JSX.Element {
  const why = props.sample?.gpuError;
  // Built first: gpuError is the agent's text, escaped by `safe` below whatever branch it comes from.
  const text = why ? `No GPU data: ${why}` : props.sample ? "This worker reports no GPU." : "No sample from this worker yet.";
  return (
    <div class="vital no-gpu">
      <p safe>{text}</p>
    </div>
  );
}

/**
 * The comparison region, `#worker-vitals`: for one GPU a two-column grid (host left, GPU right, each row a pair);
 * for `?gpu=all` a table with the host in the first column and every GPU beside it, the same rows.
 */
export function WorkerVitals(props: WorkerRegionProps): JSX.Element {
  const host = props.sample?.host;
  const shown = shownGpus(props);
  const stale = !isLive(props.worker) && props.sample;
  const note = stale ? (
    <p class="vital-stale" safe>{`Snapshot from ${formatTime(props.sample!.ts)}: the worker is ${props.worker.status}.`}</p>
  ) : (
    ""
  );
  if (props.selection.kind === "all") {
    return (
      <section id="worker-vitals" class={`vitals vitals-compare${stale ? " is-stale" : ""}`} aria-label="Host and every GPU, side by side">
        {note}
        <div class="overflow-auto" tabindex="0" role="region" aria-label="Comparison table">
          <table class="compare">
            <thead>
              <tr>
                <th scope="col">Host ↔ GPU</th>
                <th scope="col" safe>
                  {host?.hostname ?? "Host"}
                </th>
                {shown.map(({ choice }) => (
                  <th scope="col">
                    <a
                      href={`/workers/${props.worker.id}?gpu=${choice.index}`}
                      title={`Show GPU ${choice.index} alone`}
                      safe
                    >{`GPU ${choice.index}`}</a>
                    <small class="gpu-name" safe>
                      {choice.name}
                    </small>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {ROWS.map((row, i) => (
                <tr>
                  <th scope="row" safe>{`${row.host} ↔ ${row.gpu}`}</th>
                  <td>{HOST_CELLS[i]!(host, props)}</td>
                  {shown.map(({ choice, vitals, record }) => (
                    <td>{i === 0 && vitals?.lost ? lostNote(vitals) : GPU_CELLS[i]!(vitals, choice, record, props, true)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    );
  }
  const one = shown[0];
  return (
    <section id="worker-vitals" class={`vitals${stale ? " is-stale" : ""}`} aria-label="Host and GPU side by side">
      {note}
      <div class="vitals-grid">
        <h2 class="vitals-head" safe>
          {`Host ${host?.hostname ?? props.worker.hostname ?? ""}`.trim()}
        </h2>
        <h2 class="vitals-head">
          {one ? (
            <>
              <span safe>{`GPU ${one.choice.index}`}</span>{" "}
              <small class="gpu-name" safe>
                {one.choice.name}
              </small>
            </>
          ) : (
            "GPU"
          )}
        </h2>
        {ROWS.map((row, i) => (
          <>
            <div class="vital vital-host" data-row={row.host}>
              {HOST_CELLS[i]!(host, props)}
            </div>
            {one ? (
              <div class="vital vital-gpu" data-row={row.gpu}>
                {i === 0 ? lostNote(one.vitals) : ""}
                {GPU_CELLS[i]!(one.vitals, one.choice, one.record, props, false)}
              </div>
            ) : i === 0 ? (
              <NoGpu {...props} />
            ) : (
              ""
            )}
          </>
        ))}
      </div>
    </section>
  );
}

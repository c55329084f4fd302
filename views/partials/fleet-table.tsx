// The fleet table: one row per worker with its status and latest host vitals (a swap target for live updates later).
import Html from "@kitajs/html";
import type { WorkerSummary } from "../../src/fleet/workers.ts";
import type { Sample } from "../../src/protocol/sample.ts";
import { formatAgo, formatBytes, formatDuration, formatPercent, NA } from "../components/format.ts";

export interface FleetRow {
  worker: WorkerSummary;
  sample: Sample | null;
}

export function FleetTable(props: { rows: FleetRow[]; now?: number }): JSX.Element {
  if (props.rows.length === 0) {
    return (
      <article id="fleet">
        <p>No workers yet. The head's own machine appears here within seconds unless it runs with --no-local-agent.</p>
      </article>
    );
  }
  return (
    <figure id="fleet">
      <table class="fleet striped">
        <thead>
          <tr>
            <th>Worker</th>
            <th>Status</th>
            <th>GPUs</th>
            <th>CPU</th>
            <th>Load (1m)</th>
            <th>Memory</th>
            <th>Uptime</th>
            <th>Last seen</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map(({ worker, sample }) => {
            const h = sample?.host;
            const memory =
              h && h.memoryUsed !== null && h.memoryTotal !== null ? `${formatBytes(h.memoryUsed)} / ${formatBytes(h.memoryTotal)}` : NA;
            return (
              <tr data-worker={String(worker.id)}>
                <td safe>{worker.name}</td>
                <td class={`status status-${worker.status}`}>{worker.status}</td>
                <td class="num" safe>
                  {String(worker.gpuCount)}
                </td>
                <td class="num" safe>
                  {formatPercent(h?.cpuPercent)}
                </td>
                <td class="num">{h?.load ? h.load[0].toFixed(2) : NA}</td>
                <td class="num" safe>
                  {memory}
                </td>
                <td class="num" safe>
                  {formatDuration(h?.uptimeSeconds)}
                </td>
                <td safe>{formatAgo(worker.lastSeenAt, props.now)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </figure>
  );
}

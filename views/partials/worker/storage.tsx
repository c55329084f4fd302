// Storage per mount (a live region): space and inodes of every filesystem the agent reports, fullest first.
import Html from "@kitajs/html";
import { formatBytes, formatPercent, NA } from "../../components/format.ts";
import { Gauge } from "../../components/gauge.tsx";
import { percentOf, type WorkerRegionProps } from "./model.ts";

export function WorkerStorage(props: WorkerRegionProps): JSX.Element {
  const host = props.sample?.host;
  const disks = [...(host?.disks ?? [])].sort((a, b) => (percentOf(b.used, b.total) ?? -1) - (percentOf(a.used, a.total) ?? -1));
  const t = props.thresholds.memoryPercent;
  return (
    <section id="worker-storage" aria-labelledby="worker-storage-title">
      <h2 id="worker-storage-title">Storage</h2>
      {disks.length === 0 ? (
        <p>{host ? "The agent reports no mounted filesystem." : "No sample yet."}</p>
      ) : (
        <div class="overflow-auto" tabindex="0" role="region" aria-labelledby="worker-storage-title">
          <table class="storage striped">
            <thead>
              <tr>
                <th scope="col">Mount</th>
                <th scope="col">Space used</th>
                <th scope="col" class="num">
                  Used
                </th>
                <th scope="col" class="num">
                  Size
                </th>
                <th scope="col" class="num">
                  Inodes used
                </th>
              </tr>
            </thead>
            <tbody>
              {disks.map((d) => {
                const pct = percentOf(d.used, d.total);
                return (
                  <tr>
                    <th scope="row" class="text mono" safe>
                      {d.mount}
                    </th>
                    <td>
                      <Gauge label={`Space on ${d.mount}`} percent={pct} text={formatPercent(pct)} threshold={t} />
                    </td>
                    <td class="num" safe>
                      {formatBytes(d.used)}
                    </td>
                    <td class="num" safe>
                      {formatBytes(d.total)}
                    </td>
                    <td class="num">{d.inodesTotal ? formatPercent(percentOf(d.inodesUsed, d.inodesTotal)) : NA}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {host?.dockerDataBytes !== undefined && host.dockerDataBytes !== null ? (
        <p class="vital-detail" safe>{`Docker data directory: ${formatBytes(host.dockerDataBytes)}`}</p>
      ) : (
        ""
      )}
    </section>
  );
}

// The GPU process table (a live region): who holds the shown GPUs' memory, biggest first.
import Html from "@kitajs/html";
import type { GpuProcess } from "../../../src/protocol/sample.ts";
import { formatBytes, NA } from "../../components/format.ts";
import { mibToBytes, shownGpus, type WorkerRegionProps } from "./model.ts";

/** Most rows shown: a GPU shared by hundreds of tiny processes must not make the page megabytes long. */
export const MAX_PROCESS_ROWS = 200;

export function sortByMemory<T extends { usedMemoryMiB: number | null }>(rows: readonly T[]): T[] {
  // Unknown memory last: a process whose use the driver hides is not "the smallest".
  return [...rows].sort((a, b) => (b.usedMemoryMiB ?? -1) - (a.usedMemoryMiB ?? -1));
}

export function WorkerProcesses(props: WorkerRegionProps): JSX.Element {
  const shown = shownGpus(props).filter((s) => s.vitals);
  const all = props.selection.kind === "all";
  const rows = sortByMemory(
    shown.flatMap((s) => s.vitals!.processes.map((proc): GpuProcess & { gpu: number } => ({ ...proc, gpu: s.choice.index }))),
  );
  const title = all ? "Processes on every GPU" : shown[0] ? `Processes on GPU ${shown[0].choice.index}` : "GPU processes";
  return (
    <section id="worker-processes" aria-labelledby="worker-processes-title">
      <h2 id="worker-processes-title" safe>
        {title}
      </h2>
      {rows.length === 0 ? (
        <p>{props.sample ? "No process holds this GPU's memory." : "No sample yet."}</p>
      ) : (
        <div class="overflow-auto" tabindex="0" role="region" aria-labelledby="worker-processes-title">
          <table class="processes striped">
            <thead>
              <tr>
                {all ? <th scope="col">GPU</th> : ""}
                <th scope="col">PID</th>
                <th scope="col">Name</th>
                <th scope="col">User</th>
                <th scope="col">Container</th>
                <th scope="col" class="num" aria-sort="descending">
                  VRAM
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.slice(0, MAX_PROCESS_ROWS).map((p) => (
                <tr>
                  {all ? (
                    <td class="num" safe>
                      {String(p.gpu)}
                    </td>
                  ) : (
                    ""
                  )}
                  <td class="num" safe>
                    {String(p.pid)}
                  </td>
                  <td class="text" safe>
                    {p.name ?? NA}
                  </td>
                  <td safe>{p.user ?? NA}</td>
                  <td class="text" safe>
                    {p.container ?? "none"}
                  </td>
                  <td class="num" safe>
                    {formatBytes(mibToBytes(p.usedMemoryMiB))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length > MAX_PROCESS_ROWS ? (
            <p class="vital-detail" safe>{`${rows.length - MAX_PROCESS_ROWS} smaller processes not shown.`}</p>
          ) : (
            ""
          )}
        </div>
      )}
    </section>
  );
}

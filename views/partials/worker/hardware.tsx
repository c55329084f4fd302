// The hardware panel (a live region): clocks, PCIe, encoder / decoder, P-state, throttle reasons, ECC; one column per shown GPU.
import Html from "@kitajs/html";
import type { GpuRecord } from "../../../src/fleet/gpus.ts";
import type { GpuVitals } from "../../../src/protocol/sample.ts";
import { formatPercent, NA } from "../../components/format.ts";
import { num, shownGpus, type WorkerRegionProps } from "./model.ts";

type Cell = { text: string; level?: "warning" | "critical" };
type Row = { label: string; cell: (g: GpuVitals | undefined, r: GpuRecord | undefined) => Cell };

const clock = (cur: number | null | undefined, max: number | null | undefined): Cell => ({
  text: cur === null || cur === undefined ? NA : max ? `${cur} / ${max} MHz` : `${cur} MHz`,
});

/** PCIe throughput as NVML counts it (KB/s), shown in the larger unit once it is worth it. */
const kbps = (v: number | null | undefined): string =>
  v === null || v === undefined
    ? NA
    : v >= 1_000_000
      ? `${(v / 1_000_000).toFixed(1)} GB/s`
      : v >= 1000
        ? `${(v / 1000).toFixed(1)} MB/s`
        : `${v} KB/s`;

const text = (v: string | null | undefined): Cell => ({ text: v === null || v === undefined || v === "" ? NA : v });

const ROWS: Row[] = [
  { label: "SM clock (now / max)", cell: (g, r) => clock(g?.smClock, g?.maxSmClock ?? r?.maxSmClockMHz) },
  { label: "Graphics clock", cell: (g, r) => clock(g?.graphicsClock, g?.maxGraphicsClock ?? r?.maxGraphicsClockMHz) },
  { label: "Memory clock", cell: (g, r) => clock(g?.memoryClock, g?.maxMemoryClock ?? r?.maxMemoryClockMHz) },
  {
    label: "PCIe link",
    cell: (g) => text(g?.pcieLinkGen === null || g?.pcieLinkGen === undefined ? null : `Gen ${g.pcieLinkGen} ×${g.pcieLinkWidth ?? "?"}`),
  },
  { label: "PCIe TX / RX", cell: (g) => ({ text: g ? `${kbps(g.pcieTxKBps)} / ${kbps(g.pcieRxKBps)}` : NA }) },
  {
    label: "Encoder / decoder",
    cell: (g) => ({ text: g ? `${formatPercent(g.encoderUtilization)} / ${formatPercent(g.decoderUtilization)}` : NA }),
  },
  { label: "P-state", cell: (g) => text(g?.pstate === null || g?.pstate === undefined ? null : `P${g.pstate}`) },
  {
    label: "Throttle reasons",
    cell: (g) => {
      if (!g) return { text: NA };
      // Idle and application-clock settings are normal; anything else (thermal, power cap, HW slowdown) deserves a look.
      const notable = g.throttleReasons.filter((t) => !/idle|application|none/i.test(t));
      return { text: g.throttleReasons.length ? g.throttleReasons.join(", ") : "none", level: notable.length ? "warning" : undefined };
    },
  },
  {
    label: "ECC errors (corrected / uncorrected)",
    cell: (g) => ({
      text: g ? `${num(g.eccCorrected)} / ${num(g.eccUncorrected)}` : NA,
      level: g?.eccUncorrected ? "critical" : g?.eccCorrected ? "warning" : undefined,
    }),
  },
  {
    label: "MIG mode",
    cell: (g, r) => {
      const mig = g?.migMode ?? r?.migMode;
      return text(mig === null || mig === undefined ? null : mig ? "enabled" : "disabled");
    },
  },
  { label: "Compute capability", cell: (g, r) => text(g?.computeCapability ?? r?.computeCapability) },
  { label: "PCI bus", cell: (g, r) => text(g?.pciBusId ?? r?.pciBusId) },
  { label: "Serial", cell: (g, r) => text(g?.serial ?? r?.serial) },
];

export function WorkerHardware(props: WorkerRegionProps): JSX.Element {
  const shown = shownGpus(props);
  return (
    <section id="worker-hardware" aria-labelledby="worker-hardware-title">
      <h2 id="worker-hardware-title">Hardware</h2>
      {shown.length === 0 ? (
        <p>No GPU to describe.</p>
      ) : (
        <div class="overflow-auto" tabindex="0" role="region" aria-labelledby="worker-hardware-title">
          <table class="hardware">
            <thead>
              <tr>
                <th scope="col">Property</th>
                {shown.map(({ choice }) => (
                  <th scope="col" safe>{`GPU ${choice.index}`}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {ROWS.map((row) => (
                <tr>
                  <th scope="row" safe>
                    {row.label}
                  </th>
                  {shown.map(({ vitals, record }) => {
                    const c = row.cell(vitals, record);
                    return (
                      <td class={c.level ? `level-${c.level}` : undefined} safe>
                        {c.text}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

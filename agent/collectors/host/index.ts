// The host half of a sample: runs every host collector in turn and reports how each one fared.
import { hostname as osHostname } from "node:os";
import type { HostVitals } from "../../../src/protocol/sample.ts";
import type { CollectContext, Collector } from "./collector.ts";
import { cpuCollector } from "./cpu.ts";
import { cputempCollector } from "./cputemp.ts";
import { diskioCollector } from "./diskio.ts";
import { disksCollector } from "./disks.ts";
import { dockerCollector } from "./docker.ts";
import { hostnameCollector } from "./hostname.ts";
import { loadavgCollector } from "./loadavg.ts";
import { memoryCollector } from "./memory.ts";
import { networkCollector } from "./network.ts";
import { sysinfoCollector } from "./sysinfo.ts";
import { uptimeCollector } from "./uptime.ts";

/** Adding a collector is one file and one line here. Each factory call makes fresh delta state. */
const COLLECTORS: readonly (() => Collector)[] = [
  hostnameCollector,
  cpuCollector,
  memoryCollector,
  loadavgCollector,
  uptimeCollector,
  disksCollector,
  diskioCollector,
  networkCollector,
  cputempCollector,
  sysinfoCollector,
  dockerCollector,
];

export type HostCollectorOptions = {
  procRoot?: string;
  sysRoot?: string;
  /** Monotonic milliseconds; tests replace it to get exact rates. */
  now?: () => number;
  /** Interface globs ("eth*", "ib?") that alone count toward netRxBps/netTxBps; see network.ts. */
  netInclude?: string[];
  /** Interface globs never counted, on top of the rules in network.ts. */
  netExclude?: string[];
  /** The Docker data directory to measure; default: data-root of <root>/etc/docker/daemon.json, else <root>/var/lib/docker. */
  dockerDir?: string;
  /** How often to measure it; default 300000 (5 minutes). */
  dockerIntervalMs?: number;
};

export type CollectorTiming = { name: string; ms: number; ok: boolean; error?: string };

export type HostCollection = { vitals: HostVitals; timings: CollectorTiming[] };

export type HostCollector = {
  collect(): Promise<HostCollection>;
  /** Stops the background measurements (Docker's du). Its timers never keep the process alive either way. */
  close(): void;
};

/**
 * What a sample says about a field whose collector failed: unknown, which the wire spells null.
 * Required<>: the schema's optional fields are optional for other senders, never left out by Vigil.
 */
function unknownVitals(): Required<Omit<HostVitals, "simulated">> {
  return {
    hostname: osHostname(),
    cpuPercent: null,
    load: null,
    memoryUsed: null,
    memoryTotal: null,
    swapUsed: null,
    swapTotal: null,
    uptimeSeconds: null,
    disks: [],
    diskReadBps: null,
    diskWriteBps: null,
    netRxBps: null,
    netTxBps: null,
    cpuPerCore: null,
    cpuTemperature: null,
    cpuModel: null,
    cpuCores: null,
    os: null,
    kernel: null,
    dockerDataBytes: null,
  };
}

export function createHostCollector(opts: HostCollectorOptions = {}): HostCollector {
  // An empty VIGIL_PROC_ROOT means "not set", not "the current directory".
  const ctx: CollectContext = {
    procRoot: opts.procRoot || "/proc",
    sysRoot: opts.sysRoot || "/sys",
    now: opts.now ?? (() => performance.now()),
    netInclude: opts.netInclude,
    netExclude: opts.netExclude,
    dockerDir: opts.dockerDir || undefined,
    dockerIntervalMs: opts.dockerIntervalMs,
  };
  const collectors = COLLECTORS.map((create) => create());
  return {
    async collect() {
      const vitals = unknownVitals();
      const timings: CollectorTiming[] = [];
      for (const collector of collectors) {
        const start = performance.now();
        try {
          Object.assign(vitals, collector.collect(ctx));
          timings.push({ name: collector.name, ms: elapsed(start), ok: true });
        } catch (err) {
          // One broken collector must not cost the sample the others' fields.
          const error = err instanceof Error ? err.message : String(err);
          timings.push({ name: collector.name, ms: elapsed(start), ok: false, error });
        }
      }
      return { vitals, timings };
    },
    close() {
      for (const collector of collectors) collector.close?.();
    },
  };
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}

// The fleet page's grid of worker cards with its filter and sort, and the "free GPUs now" summary (both swap targets for live updates).
import Html from "@kitajs/html";
import type { FreeGpu } from "../../src/fleet/gpus.ts";
import { WorkerCard, type CardData } from "./worker-card.tsx";

export type FleetSort = "name" | "load" | "status";

export interface FleetQuery {
  /** Matches worker name, host name or GPU model, case-insensitively. */
  q: string;
  sort: FleetSort;
}

const STATUS_ORDER = { offline: 0, "never-seen": 1, stale: 2, online: 3 } as const;

function load(c: CardData): number {
  const utils = c.sample?.gpus.map((g) => g.utilization).filter((u): u is number => u !== null) ?? [];
  return utils.length ? utils.reduce((a, b) => a + b, 0) / utils.length : (c.sample?.host.cpuPercent ?? -1);
}

/** The cards the query selects, in its order (kept a pure function: the page and the live stream share it). */
export function selectCards(cards: readonly CardData[], query: FleetQuery): CardData[] {
  const q = query.q.trim().toLowerCase();
  const chosen = q
    ? cards.filter(
        (c) =>
          c.worker.name.toLowerCase().includes(q) ||
          (c.worker.hostname ?? "").toLowerCase().includes(q) ||
          (c.simulated && "simulated".includes(q)) ||
          (c.sample?.gpus.some((g) => g.name.toLowerCase().includes(q)) ?? false),
      )
    : [...cards];
  if (query.sort === "load") chosen.sort((a, b) => load(b) - load(a) || a.worker.name.localeCompare(b.worker.name));
  else if (query.sort === "status")
    chosen.sort((a, b) => STATUS_ORDER[a.worker.status] - STATUS_ORDER[b.worker.status] || a.worker.name.localeCompare(b.worker.name));
  else chosen.sort((a, b) => a.worker.name.localeCompare(b.worker.name));
  return chosen;
}

export function FleetCards(props: { cards: readonly CardData[]; query: FleetQuery; now?: number }): JSX.Element {
  const shown = selectCards(props.cards, props.query);
  return (
    <section id="fleet" class="fleet-cards" aria-live="off">
      {props.cards.length === 0 ? (
        <article>
          <p>
            No workers yet. The head's own machine appears here within seconds unless it runs with --no-local-agent; add others with `vigil
            worker add NAME`.
          </p>
        </article>
      ) : shown.length === 0 ? (
        <p safe>{`No worker matches "${props.query.q}".`}</p>
      ) : (
        shown.map((c) => <WorkerCard {...c} now={props.now} />)
      )}
    </section>
  );
}

export function FleetFilter(props: { query: FleetQuery }): JSX.Element {
  const opt = (value: FleetSort, label: string) => (
    <option value={value} selected={props.query.sort === value} safe>
      {label}
    </option>
  );
  return (
    <form method="get" action="/" class="fleet-filter" role="search">
      <input type="search" name="q" value={props.query.q} placeholder="Filter by name, host or GPU model" aria-label="Filter workers" />
      <select name="sort" aria-label="Sort workers">
        {opt("name", "Sort by name")}
        {opt("load", "Sort by load")}
        {opt("status", "Problems first")}
      </select>
      <button type="submit" class="secondary">
        Apply
      </button>
    </form>
  );
}

/** "Free GPUs now": idle GPUs of online workers, what a person looks for before launching a job. */
export function FreeGpus(props: { gpus: readonly FreeGpu[]; total: number }): JSX.Element {
  const top = props.gpus.slice(0, 6);
  return (
    <section id="free-gpus" class="free-gpus" aria-label="Free GPUs now">
      <strong safe>{`${props.gpus.length} of ${props.total} GPUs free now`}</strong>
      {top.length ? (
        <ul>
          {top.map((g) => (
            <li>
              <a href={`/workers/${g.workerId}`} safe>{`${g.worker} · GPU ${g.index}`}</a>
              <small safe>{` ${g.memoryFreeMiB === null ? "" : `${(g.memoryFreeMiB / 1024).toFixed(0)} GiB free`}`}</small>
            </li>
          ))}
          {props.gpus.length > top.length ? <li safe>{`and ${props.gpus.length - top.length} more`}</li> : ""}
        </ul>
      ) : (
        ""
      )}
    </section>
  );
}

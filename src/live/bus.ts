// The live bus: what changed on the fleet (a sample, a worker's status, a restart), told to whoever renders live views.
import { log } from "../log.ts";

/**
 * Events say only *what* changed, never the new state: a listener re-reads the state it shows
 * (latest-state cache, database), so a lost or merged event costs at most a late redraw.
 */
export type LiveEvent =
  /** A worker's newest sample arrived (also for replayed backlog: the listener decides whether its view changed). */
  | { topic: "sample"; workerId: number }
  /** Workers appeared, disappeared, or changed status (online → stale → offline is a matter of time, so a ticker finds it). */
  | { topic: "workers"; workerIds: number[] }
  /** A restart was requested, or its agent reported progress. */
  | { topic: "restart"; workerId: number; restartId: number; state: string }
  /** Alerts of these workers changed state, were acknowledged or silenced, or a delivery settled (empty: rules or channels). */
  | { topic: "alerts"; workerIds: number[] }
  /** Services were checked (their status or latest result changed), added, changed or removed (empty: the list). */
  | { topic: "health"; serviceIds: number[] }
  /** The bus check's round trip: no region listens to it. */
  | { topic: "ping"; id: string };

export type Topic = LiveEvent["topic"];
export const TOPICS: readonly Topic[] = ["sample", "workers", "restart", "alerts", "health", "ping"];

/**
 * The seam for several heads: DESIGN.md has them share PostgreSQL and cross live updates over
 * LISTEN/NOTIFY. PgBus (pg-bus.ts) is that bus: it delivers here at once and sends through NOTIFY
 * what the other heads need; nothing else in src/live had to change.
 */
export interface LiveBus {
  publish(event: LiveEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(fn: (event: LiveEvent) => void): () => void;
}

/** The bus inside one head process: synchronous delivery, a failing listener logged and skipped, never the publisher's problem. */
export class LocalBus implements LiveBus {
  private listeners = new Set<(event: LiveEvent) => void>();
  readonly stats = { published: 0, listenerErrors: 0 };

  publish(event: LiveEvent): void {
    this.stats.published++;
    for (const fn of this.listeners) {
      try {
        fn(event);
      } catch (err) {
        this.stats.listenerErrors++;
        log.error("live bus listener failed", { topic: event.topic, error: err });
      }
    }
  }

  subscribe(fn: (event: LiveEvent) => void): () => void {
    // A wrapper per call, so the same function subscribed twice is two subscriptions, each removed on its own.
    const entry = (event: LiveEvent) => fn(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }
}

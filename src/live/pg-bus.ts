// The live bus of a head among several on one PostgreSQL: local delivery at once, and the events other heads need over NOTIFY.
import type { ClusterLink } from "../cluster/link.ts";
import { LocalBus, type LiveBus, type LiveEvent, type Topic } from "./bus.ts";

/**
 * Which topics cross to other heads. `sample` does not go from here: it is published when the
 * sample is cached, before its rows commit, and another head must read them, so the cluster
 * sends it after the writer's commit (src/cluster/cluster.ts). `workers` is each head's own ticker
 * comparing statuses. `ping` goes round through PostgreSQL to this head itself, so the bus check
 * measures the real path.
 */
const CROSSES: Record<Topic, "others" | "self" | "local"> = {
  sample: "local",
  workers: "local",
  restart: "others",
  alerts: "others",
  health: "others",
  ping: "self",
};

export const LIVE_KIND = "live";

export class PgBus implements LiveBus {
  private local = new LocalBus();
  readonly stats = { published: 0, listenerErrors: 0, remote: 0, sendErrors: 0 };

  constructor(private readonly link: ClusterLink) {
    link.on(LIVE_KIND, (body) => {
      this.stats.remote++;
      this.deliver(body as LiveEvent);
    });
  }

  publish(event: LiveEvent): void {
    this.stats.published++;
    const route = CROSSES[event.topic];
    if (route !== "self") this.deliver(event);
    if (route === "local") return;
    this.link.send(LIVE_KIND, event, route === "self" ? this.link.headId : undefined).catch(() => {
      // A lost NOTIFY costs other heads a late redraw (their tickers re-read), never this head anything.
      this.stats.sendErrors++;
    });
  }

  /** Delivers an event to this head's listeners only (remote samples, once their rows are read). */
  deliver(event: LiveEvent): void {
    this.local.publish(event);
    this.stats.listenerErrors = this.local.stats.listenerErrors;
  }

  subscribe(fn: (event: LiveEvent) => void): () => void {
    return this.local.subscribe(fn);
  }
}

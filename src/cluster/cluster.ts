// Joins a head to the others on its PostgreSQL: loop leadership, committed samples told to the other heads, their changes re-read here.
import type { Database } from "../db/client.ts";
import type { HeadContext } from "../head/context.ts";
import type { Logger } from "../log.ts";
import type { PgBus } from "../live/pg-bus.ts";
import type { LiveEvent } from "../live/bus.ts";
import { Leadership, type LoopName } from "./leader.ts";
import { ClusterLink } from "./link.ts";
import { AgentRelay } from "./relay.ts";

/** How often committed samples are told to the other heads: one NOTIFY for every worker that sent meanwhile. */
const SAMPLES_EVERY_MS = 100;
const SAMPLES_KIND = "samples";
/** Each head repeats which agents it holds this often (and at once on a change); the others believe it a while longer. */
const PRESENCE_EVERY_MS = 10_000;
const PRESENCE_TRUSTED_MS = 25_000;

export interface Cluster {
  /** Null on PGlite: one head, nobody to tell. */
  link: ClusterLink | null;
  leadership: Leadership;
  relay: AgentRelay | null;
  /** Lets go of every loop, then stops listening. */
  stop(): Promise<void>;
}

/** The line to other heads, made before the live hub (whose bus rides on it); null on PGlite. */
export function clusterLinkFor(database: Database, log: Logger): ClusterLink | null {
  return database.engine === "postgres" && database.dedicatedClient ? new ClusterLink({ database, log }) : null;
}

export interface JoinOptions {
  link: ClusterLink | null;
  log: Logger;
  /** Alert engine tick (0: no timer; tests tick themselves). */
  alertTickMs: number;
  /** Run the health checks on their timers when leading. */
  scheduleHealth: boolean;
  /** How often a standby head tries the loop locks (the longest a loop is leaderless after its head dies). */
  leaderRetryMs?: number;
}

/**
 * Wires the head's loops to their leadership and, among several heads, the traffic between them.
 * On PGlite the leadership is this head's at once and nothing else is wired.
 */
export async function joinCluster(ctx: HeadContext, o: JoinOptions): Promise<Cluster> {
  const { link, log } = o;
  const { database, alerts, deliveries, health, latest, live } = ctx;
  const leadership = new Leadership({ database, log: log.child({ component: "leadership" }), retryMs: o.leaderRetryMs });
  const loops: Record<LoopName, { lead(): Promise<void>; follow(): Promise<void> }> = {
    // The engine rebuilds its state from the database on each takeover; a follower keeps a copy for the pages.
    alerts: {
      lead: () => alerts.start({ tickMs: o.alertTickMs, latest: latest.all() }),
      follow: async () => {
        await alerts.stop();
        if (!database.isClosed()) await alerts.resync();
      },
    },
    // The queue is in the database: the leader polls it; every send also holds its row's lock.
    deliveries: { lead: async () => deliveries.wake(), follow: async () => {} },
    retention: { lead: async () => {}, follow: async () => {} },
    health: { lead: () => health.lead({ schedule: o.scheduleHealth }), follow: () => health.follow() },
  };
  for (const [name, hooks] of Object.entries(loops)) leadership.register(name as LoopName, hooks);

  let relay: AgentRelay | null = null;
  let flushSamples: (() => Promise<void>) | undefined;
  let sampleTimer: ReturnType<typeof setInterval> | undefined;
  let presenceTimer: ReturnType<typeof setInterval> | undefined;
  let sayGoodbye: (() => Promise<void>) | undefined;
  if (link) {
    const bus = live.bus as PgBus;
    const agentRelay = new AgentRelay(link, ctx.sessions, ctx.probes);
    relay = agentRelay;
    ctx.sessions.relay = agentRelay;

    // Committed here: told to the others in one message per beat, so they read rows that exist.
    const committed = new Set<number>();
    ctx.ingestor.onCommitted((workerId) => committed.add(workerId));
    flushSamples = async () => {
      if (committed.size === 0 || database.isClosed()) return;
      const w = [...committed];
      committed.clear();
      await link.send(SAMPLES_KIND, { w }).catch((err: unknown) => log.warn("could not tell other heads of new samples", { error: err }));
    };
    sampleTimer = setInterval(() => void flushSamples!(), SAMPLES_EVERY_MS);
    sampleTimer.unref?.();

    // Samples committed elsewhere: read them (one read at a time, ids arriving meanwhile merged), then redraw and evaluate.
    const toRead = new Set<number>();
    let reading: Promise<void> | null = null;
    const readSamples = (): void => {
      if (reading) return;
      reading = (async () => {
        while (toRead.size > 0) {
          const ids = [...toRead];
          toRead.clear();
          try {
            const moved = await latest.refresh(database.db, ids);
            for (const workerId of moved) {
              bus.deliver({ topic: "sample", workerId });
              const entry = latest.get(workerId);
              if (entry && leadership.leads("alerts")) void alerts.observe(workerId, entry.workerName, entry.sample);
            }
          } catch (err) {
            log.warn("could not read samples other heads stored", { workers: ids.length, error: err });
          }
        }
      })().finally(() => {
        reading = null;
        // Ids that came in after the loop's last look: read them too, not at the next message.
        if (toRead.size > 0) readSamples();
      });
    };
    link.on(SAMPLES_KIND, (body) => {
      for (const id of (body as { w: number[] }).w) toRead.add(id);
      readSamples();
    });

    // Changes other heads made: alerts (transitions, acknowledgements, rules) and services are re-read.
    let alertsResync: ReturnType<typeof setTimeout> | undefined;
    link.on("live", (body) => {
      const e = body as LiveEvent;
      if (e.topic === "alerts") {
        // The engine on another head may have queued deliveries: send them now rather than at the next poll.
        deliveries.wake();
        // Merged: a delivery drain or a burst of transitions is one re-read.
        if (alertsResync) return;
        alertsResync = setTimeout(() => {
          alertsResync = undefined;
          void alerts.resync();
        }, 50);
      } else if (e.topic === "health") {
        void health.resync(e.serviceIds).catch((err: unknown) => log.warn("could not re-read services", { error: err }));
      }
    });
    // Which head holds which agent: the pages and the restart form on every head say "connected" truthfully.
    const sessions = ctx.sessions;
    const tellPresence = async () => {
      // A head closed without stop() (tests close the database directly) says nothing more.
      if (database.isClosed()) return;
      await link
        .send("presence", { w: sessions.workerIdsHere(), l: ctx.probes.localWorkerIds() })
        .catch((err: unknown) => log.warn("could not tell other heads of agents", { error: err }));
    };
    let presenceSoon: ReturnType<typeof setTimeout> | undefined;
    sessions.onChange(() => {
      presenceSoon ??= setTimeout(() => {
        presenceSoon = undefined;
        void tellPresence();
      }, 50);
    });
    presenceTimer = setInterval(() => void tellPresence(), PRESENCE_EVERY_MS);
    presenceTimer.unref?.();
    link.on("presence", (body, from) => {
      const { w: ids, l: watched } = body as { w: number[]; l?: number[] };
      agentRelay.setWatched(from, watched ?? [], Date.now() + PRESENCE_TRUSTED_MS);
      const candidates = new Set([...ids, ...sessions.connectedElsewhere(from)]);
      const before = new Map([...candidates].map((id) => [id, sessions.connected(id)]));
      sessions.setElsewhere(from, ids, Date.now() + PRESENCE_TRUSTED_MS);
      const changed = [...candidates].filter((id) => sessions.connected(id) !== before.get(id));
      if (changed.length > 0) bus.deliver({ topic: "workers", workerIds: changed });
    });
    link.on("presence-ask", () => void tellPresence());
    sayGoodbye = () => link.send("presence", { w: [] }).catch(() => {});

    link.onReconnect(() => {
      // What was said while not listening is lost: re-read all of it.
      void (async () => {
        await latest.rebuild(database.db);
        await alerts.resync();
        await health.resync([]);
        bus.deliver({ topic: "alerts", workerIds: [] });
        bus.deliver({ topic: "health", serviceIds: [] });
      })().catch((err: unknown) => log.warn("could not re-read after reconnecting", { error: err }));
    });
    await link.start();
    await link.send("presence-ask", {}).catch(() => {});
  }

  await leadership.start();
  // A standby head keeps what the pages show: the open alerts and the services' latest results.
  if (!leadership.leads("alerts")) await alerts.start({ latest: latest.all() });
  if (!leadership.leads("health")) await health.start();

  return {
    link,
    leadership,
    relay,
    async stop() {
      clearInterval(sampleTimer);
      clearInterval(presenceTimer);
      await flushSamples?.();
      await sayGoodbye?.();
      await leadership.stop();
      await link?.stop();
    },
  };
}

// The live hub: once a tick, renders each open view's stale regions once for all its subscribers and fans the changed ones out as one SSE message.
import type { HeadContext } from "../head/context.ts";
import { onRestartChange } from "../fleet/restarts.ts";
import { log } from "../log.ts";
import { LocalBus, type LiveBus, type LiveEvent } from "./bus.ts";
import { VIEWS } from "./registry.ts";
import { HEARTBEAT, partialsMessage, Subscriber } from "./stream.ts";
import { dirties, RenderContext, resolveView, UnknownView, type Region, type ViewRegions } from "./views.ts";

export interface HubOptions {
  bus?: LiveBus;
  views?: Readonly<Record<string, ViewRegions>>;
  /** How often stale regions are rendered and sent: the "at most once a second per region" of the dashboard. */
  tickMs?: number;
  /** A comment line this often keeps proxies and the server's idle timeout from closing a quiet stream. */
  heartbeatMs?: number;
  /** Streams one head holds at most; one more is a 503 (each costs a socket and a little memory). */
  maxSubscribers?: number;
  /** Bytes that may wait for one client before it is dropped as too slow. */
  maxQueuedBytes?: number;
  /** The `retry:` hint: htmx's first reconnection delay (it doubles up to 60 s). */
  retryMs?: number;
  /** false: no timer; tests call tick() themselves. */
  autoTick?: boolean;
  clock?: () => number;
}

export type Opened = { ok: true; subscriber: Subscriber } | { ok: false; status: 400 | 503; error: string };

/** Everyone watching one view ("fleet", "worker:7"): what was last sent for each region, and which regions are stale. */
class Channel {
  readonly subscribers = new Set<Subscriber>();
  readonly last = new Map<string, string>();
  readonly dirty = new Set<Region>();
  /** The first render of every region, shared by subscribers arriving while it runs. */
  warming: Promise<void> | undefined;
  /** When each region's render failure was last logged: a region failing every tick logs once a minute. */
  readonly failureLogged = new Map<string, number>();

  constructor(
    readonly key: string,
    readonly regions: readonly Region[],
  ) {}
}

const FAILURE_LOG_EVERY_MS = 60_000;

export class LiveHub {
  readonly bus: LiveBus;
  private readonly views: Readonly<Record<string, ViewRegions>>;
  private readonly tickMs: number;
  private readonly heartbeatMs: number;
  private readonly maxSubscribers: number;
  private readonly maxQueuedBytes: number;
  private readonly retryMs: number;
  private readonly autoTick: boolean;
  private readonly clock: () => number;

  private head: HeadContext | undefined;
  private stopped = false;
  private readonly channels = new Map<string, Channel>();
  private subscriberCount = 0;
  private timer: Timer | undefined;
  private lastHeartbeat = 0;
  private tickFailureLogged = -Infinity;
  /** Each worker's status (with what else the views show of it) at the last tick: a change is a "workers" event. */
  private statuses: Map<number, string> | undefined;
  private readonly unhook: (() => void)[] = [];
  readonly stats = { ticks: 0, renders: 0, messages: 0, bytesQueued: 0, dropped: 0, tickMs: 0 };

  constructor(opts: HubOptions = {}) {
    this.bus = opts.bus ?? new LocalBus();
    this.views = opts.views ?? VIEWS;
    this.tickMs = opts.tickMs ?? 1000;
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
    this.maxSubscribers = opts.maxSubscribers ?? 5000;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 1024 * 1024;
    this.retryMs = opts.retryMs ?? 1000;
    this.autoTick = opts.autoTick ?? true;
    this.clock = opts.clock ?? Date.now;
  }

  /** Hooks the head's sources of change into the bus and starts the ticker. The context is built first, so it can hold the hub. */
  start(head: HeadContext): void {
    if (this.head) throw new Error("live hub already started");
    this.head = head;
    this.lastHeartbeat = this.clock();
    head.ingestor.onSample(({ workerId }) => {
      if (!this.stopped) this.bus.publish({ topic: "sample", workerId });
    });
    this.unhook.push(
      onRestartChange(head.database.db, (c) =>
        this.bus.publish({ topic: "restart", workerId: c.workerId, restartId: c.restartId, state: c.state }),
      ),
      this.bus.subscribe((event) => this.markDirty(event)),
    );
    if (this.autoTick) this.schedule(this.tickMs);
  }

  /** Ends every stream cleanly (browsers reconnect, to this head once it is back) and stops the ticker. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const fn of this.unhook.splice(0)) fn();
    for (const channel of [...this.channels.values()]) for (const sub of [...channel.subscribers]) sub.end("head stopping");
    this.channels.clear();
  }

  get subscribers(): number {
    return this.subscriberCount;
  }

  /** Open views and their subscriber counts, for tests and the benchmark. */
  openViews(): Record<string, number> {
    return Object.fromEntries([...this.channels].map(([k, c]) => [k, c.subscribers.size]));
  }

  /**
   * A new stream on the view. Its first message (sent as soon as the view's regions are rendered, or at
   * once from what the view last sent) holds every region, so a reconnecting page is right at once.
   */
  open(view: string): Opened {
    if (!this.head || this.stopped) return { ok: false, status: 503, error: "live updates are not running on this head" };
    let regions: readonly Region[];
    try {
      regions = resolveView(this.views, view);
    } catch (err) {
      if (err instanceof UnknownView) return { ok: false, status: 400, error: err.message };
      throw err;
    }
    if (this.subscriberCount >= this.maxSubscribers) {
      return {
        ok: false,
        status: 503,
        error: `this head already serves ${this.maxSubscribers} live streams; the page stays as it is, reload later`,
      };
    }
    let channel = this.channels.get(view);
    if (!channel) {
      channel = new Channel(view, regions);
      this.channels.set(view, channel);
    }
    const ch = channel;
    const sub = new Subscriber(view, this.maxQueuedBytes, (s) => this.leave(ch, s));
    ch.subscribers.add(sub);
    this.subscriberCount++;
    void this.welcome(ch, sub);
    return { ok: true, subscriber: sub };
  }

  private async welcome(channel: Channel, sub: Subscriber): Promise<void> {
    if (channel.regions.some((r) => !channel.last.has(r.id))) {
      channel.warming ??= this.warm(channel).finally(() => (channel.warming = undefined));
      await channel.warming;
    }
    if (sub.closed) return;
    // Synchronously from here: every later change reaches this subscriber through the next broadcast.
    const regions = channel.regions.flatMap((r) => {
      const html = channel.last.get(r.id);
      return html === undefined ? [] : [{ id: r.id, html }];
    });
    const frame = partialsMessage(regions, { retryMs: this.retryMs });
    if (sub.send(frame)) this.stats.bytesQueued += frame.byteLength;
    sub.welcomed = true;
  }

  /** Renders the regions the view has never sent; one that fails stays stale, to be tried again next tick. */
  private async warm(channel: Channel): Promise<void> {
    const rc = new RenderContext(this.head!, this.clock());
    const missing = channel.regions.filter((r) => !channel.last.has(r.id));
    const html = await Promise.all(missing.map((r) => this.render(channel, r, rc)));
    missing.forEach((r, i) => {
      const h = html[i];
      if (h === undefined) channel.dirty.add(r);
      else if (!channel.last.has(r.id)) channel.last.set(r.id, h);
    });
  }

  private leave(channel: Channel, sub: Subscriber): void {
    if (!channel.subscribers.delete(sub)) return;
    this.subscriberCount--;
    if (sub.endReason === "too slow") {
      this.stats.dropped++;
      log.warn("live stream dropped: the client fell behind", { view: sub.view });
    }
    // The last one out closes the view: nothing is rendered for nobody.
    if (channel.subscribers.size === 0 && this.channels.get(channel.key) === channel) this.channels.delete(channel.key);
    // With nobody watching, statuses are not followed: the next watcher starts from a fresh baseline.
    if (this.channels.size === 0) this.statuses = undefined;
  }

  private markDirty(event: LiveEvent): void {
    const e = {
      topic: event.topic,
      workerId: "workerId" in event ? event.workerId : undefined,
      workerIds: "workerIds" in event ? event.workerIds : undefined,
    };
    for (const channel of this.channels.values()) for (const r of channel.regions) if (dirties(r, e)) channel.dirty.add(r);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      const started = this.clock();
      try {
        await this.tick();
      } catch (err) {
        // The database being away fails every tick: say so once a minute, not once a second.
        if (started - this.tickFailureLogged >= FAILURE_LOG_EVERY_MS) {
          this.tickFailureLogged = started;
          log.error("live tick failed", { error: err, durationMs: this.clock() - started });
        }
      }
      // Never sooner than a tick after the last one started: a slow tick delays the next, it never doubles up.
      this.schedule(Math.max(0, started + this.tickMs - this.clock()));
    }, delayMs);
    this.timer.unref?.();
  }

  /** One round: find status changes, render what is stale, send what changed, and a heartbeat when due. */
  async tick(): Promise<void> {
    if (!this.head || this.stopped) return;
    this.stats.ticks++;
    // Nobody watches: no query at all.
    if (this.channels.size === 0) return;
    const started = performance.now();
    const now = this.clock();
    const rc = new RenderContext(this.head, now);
    await this.watchWorkers(rc);
    await Promise.all([...this.channels.values()].map((c) => this.refresh(c, rc)));
    if (now - this.lastHeartbeat >= this.heartbeatMs) {
      this.lastHeartbeat = now;
      for (const channel of this.channels.values()) for (const sub of channel.subscribers) if (sub.welcomed) sub.send(HEARTBEAT);
    }
    this.stats.tickMs = performance.now() - started;
  }

  /** Status is a matter of time (online → stale → offline), and workers are added elsewhere: compare with the last tick. */
  private async watchWorkers(rc: RenderContext): Promise<void> {
    const workers = await rc.workers();
    const next = new Map(workers.map((w) => [w.id, `${w.status}|${w.name}|${w.gpuCount}`]));
    const prev = this.statuses;
    this.statuses = next;
    // No baseline yet (a view just opened): its first render may predate this tick, so every worker counts as changed.
    const changed = workers.filter((w) => prev?.get(w.id) !== next.get(w.id)).map((w) => w.id);
    for (const id of prev?.keys() ?? []) if (!next.has(id)) changed.push(id);
    if (changed.length > 0) this.bus.publish({ topic: "workers", workerIds: changed });
  }

  private async refresh(channel: Channel, rc: RenderContext): Promise<void> {
    for (const r of channel.regions) if (r.on.includes("clock")) channel.dirty.add(r);
    if (channel.dirty.size === 0 || channel.warming) return;
    const stale = channel.regions.filter((r) => channel.dirty.has(r));
    channel.dirty.clear();
    const html = await Promise.all(stale.map((r) => this.render(channel, r, rc)));
    if (this.channels.get(channel.key) !== channel) return;
    const changed: { id: string; html: string }[] = [];
    stale.forEach((r, i) => {
      const h = html[i];
      if (h === undefined || h === channel.last.get(r.id)) return;
      channel.last.set(r.id, h);
      changed.push({ id: r.id, html: h });
    });
    if (changed.length === 0) return;
    const frame = partialsMessage(changed, { id: String(this.stats.ticks) });
    this.stats.messages++;
    for (const sub of [...channel.subscribers]) if (sub.welcomed && sub.send(frame)) this.stats.bytesQueued += frame.byteLength;
  }

  /** The region's HTML, rendered once per tick however many views show it; undefined when it failed (logged). */
  private async render(channel: Channel, region: Region, rc: RenderContext): Promise<string | undefined> {
    let pending = rc.rendered.get(region);
    if (!pending) {
      this.stats.renders++;
      pending = Promise.resolve(region.render(rc));
      rc.rendered.set(region, pending);
    }
    try {
      return await pending;
    } catch (err) {
      const now = this.clock();
      if (now - (channel.failureLogged.get(region.id) ?? -Infinity) >= FAILURE_LOG_EVERY_MS) {
        channel.failureLogged.set(region.id, now);
        log.error("live region failed to render", { view: channel.key, region: region.id, error: err });
      }
      return undefined;
    }
  }
}

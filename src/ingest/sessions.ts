// The agents connected to this head right now, so commands (restarts, update notices) reach the worker's socket.
import type { HeadMessage } from "../protocol/messages.ts";

export interface AgentConnection {
  workerId: number;
  name: string;
  version: string | null;
  connectedAt: Date;
  send(message: HeadMessage): void;
  close(code: number, reason: string): void;
}

/** The way to the agents whose sockets other heads hold (several heads on one PostgreSQL: src/cluster/relay.ts). */
export interface SessionRelay {
  /** Hands the message to the head holding the worker's socket; resolves whether one sent it. */
  send(workerId: number, message: HeadMessage): Promise<boolean>;
  /** Whether another head's in-process agent watches the worker (it answers probes, without a socket). */
  watchedElsewhere(workerId: number): boolean;
}

export class AgentSessions {
  private byWorker = new Map<number, Set<AgentConnection>>();
  /** Set when this head shares its database with others: an agent may be connected to any of them. */
  relay: SessionRelay | null = null;
  private elsewhere = new Map<string, { workerIds: Set<number>; until: number }>();
  private changeListeners: (() => void)[] = [];

  add(c: AgentConnection): void {
    let set = this.byWorker.get(c.workerId);
    if (!set) this.byWorker.set(c.workerId, (set = new Set()));
    set.add(c);
    if (set.size === 1) this.changed();
  }

  remove(c: AgentConnection): void {
    const set = this.byWorker.get(c.workerId);
    if (!set?.delete(c)) return;
    if (set.size === 0) {
      this.byWorker.delete(c.workerId);
      this.changed();
    }
  }

  /** Whether an agent of the worker is connected to this head or, as they last said, to another head. */
  connected(workerId: number): boolean {
    if (this.connectedHere(workerId)) return true;
    const now = Date.now();
    for (const h of this.elsewhere.values()) if (h.until > now && h.workerIds.has(workerId)) return true;
    return false;
  }

  /** Whether this head holds a socket of the worker. */
  connectedHere(workerId: number): boolean {
    return (this.byWorker.get(workerId)?.size ?? 0) > 0;
  }

  /** The workers with a socket on this head (told to the other heads). */
  workerIdsHere(): number[] {
    return [...this.byWorker.keys()];
  }

  /**
   * What another head said it holds, believed until `until` (a head that dies says nothing more,
   * so its word runs out; the live heads repeat theirs well before).
   */
  setElsewhere(headId: string, workerIds: readonly number[], until: number): void {
    if (workerIds.length === 0) this.elsewhere.delete(headId);
    else this.elsewhere.set(headId, { workerIds: new Set(workerIds), until });
  }

  /** The workers another head last said it holds. */
  connectedElsewhere(headId: string): number[] {
    return [...(this.elsewhere.get(headId)?.workerIds ?? [])];
  }

  /** Called when this head's set of connected workers changed. */
  onChange(fn: () => void): void {
    this.changeListeners.push(fn);
  }

  private changed(): void {
    for (const fn of this.changeListeners) fn();
  }

  /** Sends to the worker's newest connection; false when it has none on this head. */
  send(workerId: number, message: HeadMessage): boolean {
    const set = this.byWorker.get(workerId);
    if (!set || set.size === 0) return false;
    const newest = [...set].sort((a, b) => b.connectedAt.getTime() - a.connectedAt.getTime())[0]!;
    newest.send(message);
    return true;
  }

  /** Sends on this head's socket of the worker, or through the head holding one; false when no head sent it. */
  async sendAnywhere(workerId: number, message: HeadMessage): Promise<boolean> {
    let sent = false;
    try {
      sent = this.send(workerId, message);
    } catch {
      sent = false; // a socket closing under us is the same as no socket here
    }
    if (sent) return true;
    return this.relay ? this.relay.send(workerId, message) : false;
  }

  /** Ends every connection of a worker (revoked or rotated). */
  disconnect(workerId: number, reason: string): void {
    for (const c of this.byWorker.get(workerId) ?? []) c.close(4001, reason);
  }

  get count(): number {
    let n = 0;
    for (const set of this.byWorker.values()) n += set.size;
    return n;
  }
}

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

export class AgentSessions {
  private byWorker = new Map<number, Set<AgentConnection>>();

  add(c: AgentConnection): void {
    let set = this.byWorker.get(c.workerId);
    if (!set) this.byWorker.set(c.workerId, (set = new Set()));
    set.add(c);
  }

  remove(c: AgentConnection): void {
    const set = this.byWorker.get(c.workerId);
    set?.delete(c);
    if (set && set.size === 0) this.byWorker.delete(c.workerId);
  }

  connected(workerId: number): boolean {
    return (this.byWorker.get(workerId)?.size ?? 0) > 0;
  }

  /** Sends to the worker's newest connection; false when it has none on this head. */
  send(workerId: number, message: HeadMessage): boolean {
    const set = this.byWorker.get(workerId);
    if (!set || set.size === 0) return false;
    const newest = [...set].sort((a, b) => b.connectedAt.getTime() - a.connectedAt.getTime())[0]!;
    newest.send(message);
    return true;
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

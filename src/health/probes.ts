// Sends worker-side probes to the worker's agent and matches its answers: down the agent's socket, or to the head's own in-process agent.
import { randomUUID } from "node:crypto";
import type { WorkerProbe, WorkerProbeAnswer } from "../checks/checker.ts";
import type { AgentSessions } from "../ingest/sessions.ts";
import { MAX_PROBE_TIMEOUT_MS, probeProblem, probeResultProblem, type ProbeKind, type ProbeResultMessage } from "../protocol/messages.ts";

export interface ProbeRouterOptions {
  /**
   * Waited past the probe's own timeout before giving up on the agent: the agent answers "did not
   * finish" itself when the probe runs out, and that answer says more than silence (default 1 s).
   */
  transitMs?: number;
}

/** Runs a probe for a worker that has no socket: the head's own machine. */
export type LocalProbeRunner = (probe: WorkerProbe, timeoutMs: number) => Promise<WorkerProbeAnswer>;

interface Pending {
  workerId: number;
  kind: ProbeKind;
  resolve: (answer: WorkerProbeAnswer) => void;
  timer: ReturnType<typeof setTimeout>;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

// The router of each AgentSessions, so the agents route can hand it the answers that arrive on the
// sockets without the router having to be threaded through every route.
const routers = new WeakMap<AgentSessions, ProbeRouter>();

/** The probe router serving these sessions, if one was made. */
export function probeRouterOf(sessions: AgentSessions): ProbeRouter | undefined {
  return routers.get(sessions);
}

export class ProbeRouter {
  private readonly pending = new Map<string, Pending>();
  private readonly local = new Map<number, LocalProbeRunner>();
  private readonly forwards = new Map<
    string,
    {
      workerId: number;
      answer: (message: Pick<ProbeResultMessage, "id" | "ok" | "result" | "error">) => void;
      timer: ReturnType<typeof setTimeout>;
    }
  >();
  private readonly transitMs: number;

  /** One router per AgentSessions: answers arriving on those sockets come to it (probeRouterOf). */
  constructor(
    private readonly sessions: AgentSessions,
    opts: ProbeRouterOptions = {},
  ) {
    if (routers.has(sessions)) throw new Error("these agent sessions already have a probe router");
    routers.set(sessions, this);
    this.transitMs = opts.transitMs ?? 1000;
  }

  /** The head's in-process agent answers this worker's probes, without a socket. */
  setLocal(workerId: number, run: LocalProbeRunner): void {
    this.local.set(workerId, run);
  }

  /** Whether this head's own in-process agent answers for the worker. */
  hasLocal(workerId: number): boolean {
    return this.local.has(workerId);
  }

  /** The workers this head's in-process agent answers for (told to the other heads). */
  localWorkerIds(): number[] {
    return [...this.local.keys()];
  }

  /** Probes sent and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Runs `probe` on the worker and gives the agent's answer (ok or not: a refused path or a
   * connection refused is an answer). Rejects when the probe is malformed, when no agent of the
   * worker is connected to this head (or, with other heads on the database, to any), or when none
   * answers in time.
   */
  run(workerId: number, probe: WorkerProbe, timeoutMs: number): Promise<WorkerProbeAnswer> {
    const problem =
      probeProblem(probe) ??
      (timeoutMs > 0 && timeoutMs <= MAX_PROBE_TIMEOUT_MS ? null : `its timeout is ${timeoutMs} ms; at most ${MAX_PROBE_TIMEOUT_MS}`);
    if (problem) return Promise.reject(new Error(`the ${String(probe?.kind)} probe for worker ${workerId} is malformed: ${problem}`));
    const local = this.local.get(workerId);
    if (local) return this.runLocal(workerId, local, probe, timeoutMs);

    const id = randomUUID();
    return new Promise<WorkerProbeAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`worker ${workerId}'s agent did not answer the ${probe.kind} probe within ${seconds(timeoutMs)}`));
      }, timeoutMs + this.transitMs);
      this.pending.set(id, { workerId, kind: probe.kind, resolve, timer });
      const message = { type: "probe", id, probe, timeoutMs } as const;
      let sent: boolean;
      try {
        sent = this.sessions.send(workerId, message);
      } catch {
        sent = false; // a socket closing under us is the same as no socket
      }
      if (sent) return;
      const notSent = (why: string) => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        reject(new Error(`worker ${workerId}'s agent is not connected to ${why}`));
      };
      const relay = this.sessions.relay;
      const elsewhere = "this head or any other on its database";
      if (!relay) return notSent("this head");
      // No head says it holds the worker's agent: no need to ask them all and wait.
      if (!this.sessions.connected(workerId) && !relay.watchedElsewhere(workerId)) return notSent(elsewhere);
      // Another head holds the socket: it sends the probe, and the answer comes back through it (forwarded).
      relay.send(workerId, message).then(
        (ok) => {
          if (!ok) notSent(elsewhere);
        },
        (err: unknown) => notSent(`${elsewhere} (${(err as Error).message})`),
      );
    });
  }

  /**
   * A probe another head sent down a socket this head holds: the agent answers here, and `answer`
   * takes it back to that head. Forgotten after `ttlMs` (the asking head has given up by then).
   */
  forwarded(
    id: string,
    workerId: number,
    answer: (message: Pick<ProbeResultMessage, "id" | "ok" | "result" | "error">) => void,
    ttlMs: number,
  ): void {
    const timer = setTimeout(() => this.forwards.delete(id), ttlMs);
    timer.unref?.();
    this.forwards.set(id, { workerId, answer, timer });
  }

  /**
   * Settles the probe an agent's probe-result answers; called by the agents route with the worker the
   * socket belongs to. False (and nothing settled) for an id this router did not send, one already
   * settled, or one sent to another worker: an agent cannot answer for another.
   */
  resolve(workerId: number, message: Pick<ProbeResultMessage, "id" | "ok" | "result" | "error">): boolean {
    const f = this.forwards.get(message.id);
    if (f && f.workerId === workerId) {
      this.forwards.delete(message.id);
      clearTimeout(f.timer);
      f.answer(message);
      return true;
    }
    const p = this.pending.get(message.id);
    if (!p || p.workerId !== workerId) return false;
    this.pending.delete(message.id);
    clearTimeout(p.timer);
    p.resolve(this.answerOf(p.kind, message));
    return true;
  }

  /** Gives up on every probe in flight (the head is stopping). */
  close(): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ ok: false, result: {}, error: "the head is stopping" });
      this.pending.delete(id);
    }
  }

  /** An answer as the checks see it; an ok result that does not fit the kind asked is turned into an error here. */
  private answerOf(kind: ProbeKind, m: Pick<ProbeResultMessage, "ok" | "result" | "error">): WorkerProbeAnswer {
    if (!m.ok) return { ok: false, result: m.result, error: m.error ?? `the ${kind} probe failed without a reason` };
    const problem = probeResultProblem(kind, m.result);
    if (problem) return { ok: false, result: {}, error: `the agent's answer to the ${kind} probe is malformed: ${problem}` };
    return { ok: true, result: m.result };
  }

  private async runLocal(workerId: number, run: LocalProbeRunner, probe: WorkerProbe, timeoutMs: number): Promise<WorkerProbeAnswer> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`worker ${workerId}'s local agent did not answer the ${probe.kind} probe within ${seconds(timeoutMs)}`)),
        timeoutMs + this.transitMs,
      );
    });
    try {
      const answer = await Promise.race([run(probe, timeoutMs), late]);
      return this.answerOf(probe.kind, answer);
    } finally {
      clearTimeout(timer);
    }
  }
}

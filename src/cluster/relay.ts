// Commands for agents whose sockets other heads hold: asked over the cluster link, sent by the holding head, probe answers carried back.
import { randomUUID } from "node:crypto";
import type { ProbeRouter } from "../health/probes.ts";
import type { AgentSessions, SessionRelay } from "../ingest/sessions.ts";
import type { HeadMessage, ProbeResultMessage } from "../protocol/messages.ts";
import type { ClusterLink } from "./link.ts";

interface CommandBody {
  /** The asking head's id for this request, answered when a head sent it. */
  rid: string;
  workerId: number;
  message: HeadMessage;
}

interface ProbeAnswerBody {
  workerId: number;
  message: Pick<ProbeResultMessage, "id" | "ok" | "result" | "error">;
}

/**
 * Every head hears the request; only one holding a socket of the worker sends it and answers, so
 * silence means no head has the agent. The restart row is written before asking, and the agent's
 * reports come back through the database and the live bus as they do on one head.
 */
export class AgentRelay implements SessionRelay {
  private waiting = new Map<string, (sent: boolean) => void>();
  /** Per other head, the workers its in-process agent watches, and until when that is believed. */
  private watched = new Map<string, { workerIds: Set<number>; until: number }>();
  readonly stats = { asked: 0, sentForOthers: 0, unanswered: 0 };

  constructor(
    private readonly link: ClusterLink,
    private readonly sessions: AgentSessions,
    private readonly probes: ProbeRouter,
    /** How long the asking head waits for the holding head to say it sent the message. */
    private readonly answerWaitMs = 2_000,
  ) {
    link.on("agent-command", (body, from) => this.sendForOther(body as CommandBody, from));
    link.on("agent-command-sent", (body) => {
      const rid = (body as { rid: string }).rid;
      this.waiting.get(rid)?.(true);
    });
    link.on("probe-answer", (body) => {
      const b = body as ProbeAnswerBody;
      this.probes.resolve(b.workerId, b.message);
    });
  }

  /** What another head said its in-process agent watches (with its presence). */
  setWatched(headId: string, workerIds: readonly number[], until: number): void {
    if (workerIds.length === 0) this.watched.delete(headId);
    else this.watched.set(headId, { workerIds: new Set(workerIds), until });
  }

  watchedElsewhere(workerId: number): boolean {
    const now = Date.now();
    for (const h of this.watched.values()) if (h.until > now && h.workerIds.has(workerId)) return true;
    return false;
  }

  send(workerId: number, message: HeadMessage): Promise<boolean> {
    this.stats.asked++;
    const rid = randomUUID();
    return new Promise<boolean>((resolve) => {
      const done = (sent: boolean) => {
        if (!this.waiting.delete(rid)) return;
        clearTimeout(timer);
        if (!sent) this.stats.unanswered++;
        resolve(sent);
      };
      const timer = setTimeout(() => done(false), this.answerWaitMs);
      this.waiting.set(rid, done);
      this.link.send("agent-command", { rid, workerId, message } satisfies CommandBody).catch(() => done(false));
    });
  }

  private async sendForOther(b: CommandBody, from: string): Promise<void> {
    const m = b.message;
    // This head's own machine, watched by its in-process agent: it has no socket, so the probe runs here.
    if (m.type === "probe" && this.probes.hasLocal(b.workerId)) {
      await this.link.send("agent-command-sent", { rid: b.rid }, from);
      const answer = await this.probes
        .run(b.workerId, m.probe, m.timeoutMs)
        .catch((err: unknown) => ({ ok: false, result: {}, error: (err as Error).message }));
      await this.link.send("probe-answer", { workerId: b.workerId, message: { id: m.id, ...answer } } satisfies ProbeAnswerBody, from);
      return;
    }
    if (!this.sessions.connectedHere(b.workerId)) return;
    // Registered before sending: the agent's answer may come back before this function goes on.
    if (m.type === "probe")
      this.probes.forwarded(
        m.id,
        b.workerId,
        (answer) => void this.link.send("probe-answer", { workerId: b.workerId, message: answer } satisfies ProbeAnswerBody, from),
        m.timeoutMs + 5_000,
      );
    let sent = false;
    try {
      sent = this.sessions.send(b.workerId, m);
    } catch {
      sent = false;
    }
    if (!sent) return;
    this.stats.sentForOthers++;
    await this.link.send("agent-command-sent", { rid: b.rid }, from);
  }
}

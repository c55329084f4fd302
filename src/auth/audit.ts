// The audit log: who did what, when, from where, to what. Appended by the services; read by admins.
import { desc, lt } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { auditLog } from "../db/schema/index.ts";
import { log } from "../log.ts";

/** Who acted: a signed-in user, an API token, the command line, or Vigil itself. */
export interface Actor {
  /** `user:alice`, `token:ci-bot`, `cli:root`, `system`, or `anonymous`. */
  label: string;
  userId?: number | null;
  ip?: string | null;
}

export const SYSTEM: Actor = { label: "system" };

export type AuditAction =
  | "login.success"
  | "login.failure"
  | "login.blocked"
  | "logout"
  | "user.add"
  | "user.remove"
  | "user.passwd"
  | "user.role"
  | "token.create"
  | "token.revoke"
  | "worker.add"
  | "worker.rotate"
  | "worker.revoke"
  | "worker.remove"
  | "worker.enroll"
  | "worker.enroll.refused"
  | "restart.request"
  | "threshold.save"
  | "threshold.delete"
  | "builtin.save"
  | "alerts.settings"
  | "silence.add"
  | "silence.cancel"
  | "channel.save"
  | "channel.delete"
  | "channel.test"
  | "alert.ack"
  | "preflight.override"
  | "preflight.override.cancel"
  | "service.save"
  | "service.delete"
  | "service.check"
  | "service.diagnose"
  | "service.log"
  | "service.restart";

export interface AuditEntry {
  action: AuditAction;
  target?: string | null;
  details?: Record<string, unknown>;
}

export async function audit(db: Db, actor: Actor, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    actor: actor.label,
    userId: actor.userId ?? null,
    action: entry.action,
    target: entry.target ?? null,
    ip: actor.ip ?? null,
    details: entry.details ?? {},
  });
  log.info("audit", { actor: actor.label, action: entry.action, target: entry.target ?? undefined, ip: actor.ip ?? undefined });
}

export type AuditRow = typeof auditLog.$inferSelect;

/** Newest first; `before` pages back by id. */
export async function listAudit(db: Db, opts: { limit?: number; before?: number } = {}): Promise<AuditRow[]> {
  const wanted = Number.isFinite(opts.limit) ? Math.floor(opts.limit!) : 100;
  const limit = Math.min(Math.max(wanted, 1), 1000);
  const q = db.select().from(auditLog);
  const filtered = opts.before ? q.where(lt(auditLog.id, opts.before)) : q;
  return filtered.orderBy(desc(auditLog.id)).limit(limit);
}

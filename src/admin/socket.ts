// The head's admin socket: a Unix socket in the data directory through which `vigil user|token` reach a running head's embedded database.
import { chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";
import type { Db } from "../db/client.ts";
import { InputError } from "../auth/text.ts";
import type { Logger } from "../log.ts";
import { isOperation, OPERATIONS, type HeadAddress } from "./operations.ts";

export const ADMIN_SOCKET = "admin.sock";

export function adminSocketPath(dataDir: string): string {
  return join(dataDir, ADMIN_SOCKET);
}

/**
 * Only the data directory's owner can connect (the directory is 0700 and the socket 0600), so
 * the caller is trusted as the operator of this head; the actor label it sends goes to the audit log.
 * `address` is where workers reach this head, which `vigil worker add` prints in the install line.
 */
export function startAdminSocket(db: Db, dataDir: string, log: Logger, address?: HeadAddress): Server<unknown> {
  const path = adminSocketPath(dataDir);
  rmSync(path, { force: true }); // left by a head that was killed
  const server = Bun.serve({
    unix: path,
    async fetch(req) {
      const op = new URL(req.url).pathname.replace(/^\/op\//, "");
      if (req.method !== "POST" || !isOperation(op)) return Response.json({ error: `unknown operation ${op}` }, { status: 404 });
      let body: { actor?: unknown; args?: unknown };
      try {
        body = (await req.json()) as typeof body;
      } catch {
        return Response.json({ error: "body must be JSON" }, { status: 400 });
      }
      const label = typeof body.actor === "string" && body.actor.startsWith("cli:") ? body.actor.slice(0, 200) : "cli:unknown";
      const args = body.args && typeof body.args === "object" ? (body.args as Record<string, unknown>) : {};
      try {
        const result = await OPERATIONS[op](db, { label, ip: "cli" }, args, address);
        return Response.json({ result });
      } catch (err) {
        if (err instanceof InputError) return Response.json({ error: err.message }, { status: 400 });
        log.error("admin operation failed", { op, error: err });
        return Response.json({ error: `internal error: ${(err as Error).message}` }, { status: 500 });
      }
    },
  });
  chmodSync(path, 0o600);
  return server;
}

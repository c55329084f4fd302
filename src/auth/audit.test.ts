import { beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { describeEachEngine } from "../../test/harness/engines.ts";
import type { Database } from "../db/client.ts";
import { auditLog } from "../db/schema/index.ts";
import { audit, listAudit, SYSTEM, type Actor } from "./audit.ts";

const SLOW = 60_000;

/** The error text (with its cause) a query fails with; fails the test if the query succeeds. */
async function refusal(query: PromiseLike<unknown>): Promise<string> {
  try {
    await query;
  } catch (e) {
    const err = e as Error & { cause?: unknown };
    return `${err.message} ${err.cause instanceof Error ? err.cause.message : ""}`;
  }
  throw new Error("the query succeeded");
}

describeEachEngine("audit", (_engine, open) => {
  let database: Database;
  beforeAll(async () => {
    database = await open();
  }, SLOW);

  test(
    "audit() appends a row with who, what, to what, from where and the details",
    async () => {
      const actor: Actor = { label: "user:alice", userId: 42, ip: "192.0.2.3" };
      const before = Date.now();
      await audit(database.db, actor, {
        action: "user.role",
        target: "bob",
        details: { from: "viewer", to: "admin", note: `'; DROP TABLE audit_log; --` },
      });
      const [row] = await listAudit(database.db, { limit: 1 });
      expect(row).toMatchObject({
        actor: "user:alice",
        userId: 42,
        action: "user.role",
        target: "bob",
        ip: "192.0.2.3",
        details: { from: "viewer", to: "admin", note: `'; DROP TABLE audit_log; --` },
      });
      expect(row!.ts.getTime()).toBeGreaterThanOrEqual(before - 5000);
      expect(row!.ts.getTime()).toBeLessThanOrEqual(Date.now() + 5000);

      // Defaults: no user id, target, address or details.
      await audit(database.db, SYSTEM, { action: "logout" });
      const [bare] = await listAudit(database.db, { limit: 1 });
      expect(bare).toMatchObject({ actor: "system", userId: null, action: "logout", target: null, ip: null, details: {} });
      expect(bare!.id).toBeGreaterThan(row!.id);
    },
    SLOW,
  );

  test(
    "listAudit is newest first, limited, and pages back with before",
    async () => {
      const fresh = await open();
      for (let i = 1; i <= 25; i++) await audit(fresh.db, { label: `user:u${i}` }, { action: "login.success", target: `u${i}` });

      const all = await listAudit(fresh.db);
      expect(all).toHaveLength(25);
      expect(all.map((r) => r.target)).toEqual(Array.from({ length: 25 }, (_, i) => `u${25 - i}`));
      for (let i = 1; i < all.length; i++) expect(all[i]!.id).toBeLessThan(all[i - 1]!.id);

      const first = await listAudit(fresh.db, { limit: 10 });
      expect(first.map((r) => r.target)).toEqual(["u25", "u24", "u23", "u22", "u21", "u20", "u19", "u18", "u17", "u16"]);

      // Page through in tens, each page starting below the last id seen.
      const seen: string[] = [];
      let before: number | undefined;
      for (;;) {
        const page = await listAudit(fresh.db, { limit: 10, before });
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(10);
        if (before !== undefined) expect(page.every((r) => r.id < before!)).toBe(true);
        seen.push(...page.map((r) => r.target!));
        before = page.at(-1)!.id;
      }
      expect(seen).toEqual(all.map((r) => r.target!));

      // `before` excludes that id itself.
      const below = await listAudit(fresh.db, { before: all[0]!.id, limit: 2 });
      expect(below.map((r) => r.id)).toEqual([all[1]!.id, all[2]!.id]);
      expect(await listAudit(fresh.db, { before: all.at(-1)!.id })).toEqual([]);
    },
    SLOW,
  );

  test(
    "limits are clamped: 100 by default, at least 1, at most 1000",
    async () => {
      const fresh = await open();
      await fresh.query(
        "insert into audit_log (actor, action, target) select 'bulk', 'login.failure', 'n' || g from generate_series(1, 1005) g",
      );
      expect(await listAudit(fresh.db)).toHaveLength(100);
      expect(await listAudit(fresh.db, { limit: 5000 })).toHaveLength(1000);
      expect(await listAudit(fresh.db, { limit: 0 })).toHaveLength(1);
      expect(await listAudit(fresh.db, { limit: -7 })).toHaveLength(1);
      expect((await listAudit(fresh.db, { limit: 1 }))[0]!.target).toBe("n1005");
    },
    SLOW,
  );

  test(
    "the database refuses UPDATE and DELETE on audit_log: it is append-only",
    async () => {
      await audit(database.db, { label: "user:mallory", ip: "203.0.113.66" }, { action: "login.failure", target: "admin" });
      const rowsBefore = await database.query<{ id: string; actor: string }>("select id::text as id, actor from audit_log order by id");
      const id = rowsBefore.at(-1)!.id;

      await expect(database.query("update audit_log set actor = 'nobody' where id = $1", [id])).rejects.toThrow("append-only");
      await expect(database.query("update audit_log set details = '{}'::jsonb")).rejects.toThrow("append-only");
      await expect(database.query("delete from audit_log where id = $1", [id])).rejects.toThrow("append-only");
      await expect(database.query("delete from audit_log")).rejects.toThrow("append-only");
      await expect(database.query("truncate audit_log")).rejects.toThrow("append-only");
      // Through drizzle too (it wraps the database's error as the cause).
      expect(
        await refusal(
          database.db
            .update(auditLog)
            .set({ target: "x" })
            .where(eq(auditLog.id, Number(id))),
        ),
      ).toContain("append-only");
      expect(await refusal(database.db.delete(auditLog))).toContain("append-only");

      const rowsAfter = await database.query<{ id: string; actor: string }>("select id::text as id, actor from audit_log order by id");
      expect(rowsAfter).toEqual(rowsBefore);
      expect(rowsAfter.at(-1)!.actor).toBe("user:mallory");

      // Appending still works.
      await audit(database.db, SYSTEM, { action: "logout" });
      expect((await listAudit(database.db, { limit: 1 }))[0]!.actor).toBe("system");
    },
    SLOW,
  );
});

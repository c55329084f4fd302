// Bulk insert of many rows as one JSON parameter (json_populate_recordset): wide time-series rows without thousands of bind parameters.
import { getTableColumns, getTableName, sql, type SQL } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";

/**
 * Why: drizzle's multi-row VALUES binds one parameter per cell; a batch of 4,000 GPU rows of 28
 * columns is 112,000 parameters to build, send and parse. One JSON document per batch measured
 * several times faster on both PGlite and PostgreSQL (BENCHMARKS.md, ingest). Works on PostgreSQL 15+.
 */
export function bulkInsertSql<T extends PgTable>(
  table: T,
  rows: readonly T["$inferInsert"][],
  opts: { onConflictDoNothing?: boolean } = {},
): SQL {
  const columns = Object.entries(getTableColumns(table)) as [string, { name: string; mapToDriverValue?: (v: unknown) => unknown }][];
  const records = rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [prop, col] of columns) {
      const v = (row as Record<string, unknown>)[prop];
      if (v === undefined) continue; // the column default applies
      out[col.name] = v instanceof Date ? v.toISOString() : v;
    }
    return out;
  });
  const names = sql.join(
    columns.map(([, c]) => sql.identifier(c.name)),
    sql`, `,
  );
  const name = sql.identifier(getTableName(table));
  // Columns absent from a record come out NULL from json_populate_recordset; coalescing with the
  // defaults is not needed here because the writer always sends every column it has a value for,
  // and the only defaulted columns (gpu_source, lost) are always set by the row builders.
  return sql`insert into ${name} (${names}) select ${names} from json_populate_recordset(null::${name}, ${JSON.stringify(records)}::json)${
    opts.onConflictDoNothing ? sql` on conflict do nothing` : sql``
  }`;
}

// CSV (RFC 4180) for history exports: quoted where needed, and text that a spreadsheet would run as a formula defused.
export type Cell = string | number | boolean | null | undefined;

/**
 * Why the formula guard: process and host names come from agents, and a cell such as
 * `=HYPERLINK(...)` would run when an operator opens the export in a spreadsheet (OWASP "CSV
 * injection"). Numbers are left alone, so negative values stay numbers.
 */
function cell(v: Cell): string {
  if (v === null || v === undefined) return "";
  if (typeof v !== "string") return String(v);
  const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: Iterable<readonly Cell[]>): string {
  const lines = [header.map(cell).join(",")];
  for (const r of rows) lines.push(r.map(cell).join(","));
  return lines.join("\r\n") + "\r\n";
}

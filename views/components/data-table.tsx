// Tables of records (alerts, events, deliveries, status windows, checks): they scroll sideways when too wide, each cell named after its column.
import Html, { type PropsWithChildren } from "@kitajs/html";
import { formatAt } from "./format.ts";

/**
 * `class`: the page's own classes beside `data-table striped` (static/vigil.css styles those); `children`: the rows, whose
 * cells are usually Cell and TimeCell.
 */
export function DataTable(props: PropsWithChildren<{ class: string; columns: readonly string[] }>): JSX.Element {
  return (
    <div class="overflow-auto">
      <table class={`data-table striped ${props.class}`}>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th scope="col" safe>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/**
 * A cell of text, escaped. `label`: its column's name, which a page may show beside the value where narrow screens stack a
 * row's cells; `class`: "num" for a right-aligned number, "text" for words that may wrap.
 */
export function Cell(props: { label: string; text: string; class?: string }): JSX.Element {
  return (
    <td data-label={props.label} class={props.class} safe>
      {props.text}
    </td>
  );
}

/** A cell with an instant ("2026-11-23 10:00:00 UTC", the exact one in `datetime`), or `none` ("—") when there is none. */
export function TimeCell(props: { label: string; at: number | Date | null; none?: string }): JSX.Element {
  if (props.at === null) return <Cell label={props.label} text={props.none ?? "—"} />;
  const at = typeof props.at === "number" ? new Date(props.at) : props.at;
  return (
    <td data-label={props.label}>
      <time datetime={at.toISOString()} safe>
        {formatAt(at)}
      </time>
    </td>
  );
}

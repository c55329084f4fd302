// The audit log page (admins): who did what, when, from where, to what; newest first, paged by id.
import Html from "@kitajs/html";
import type { AuditRow } from "../../src/auth/audit.ts";
import { Layout, type Viewer } from "../layout.tsx";

export function AuditPage(props: { viewer: Viewer; rows: AuditRow[]; nextBefore: number | null }): JSX.Element {
  return (
    <Layout title="Audit log" viewer={props.viewer}>
      <h1>Audit log</h1>
      <figure>
        <table class="list striped">
          <thead>
            <tr>
              <th>When (UTC)</th>
              <th>Who</th>
              <th>What</th>
              <th>To what</th>
              <th>From</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => {
              const details = Object.keys(r.details).length ? JSON.stringify(r.details) : "";
              return (
                <tr>
                  <td safe>{r.ts.toISOString().slice(0, 19).replace("T", " ")}</td>
                  <td class="text" safe>
                    {r.actor}
                  </td>
                  <td safe>{r.action}</td>
                  <td class="text" safe>
                    {r.target ?? ""}
                  </td>
                  <td safe>{r.ip ?? ""}</td>
                  <td class="text">{details ? <code safe>{details}</code> : ""}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </figure>
      {props.nextBefore !== null && (
        <a href={`/admin/audit?before=${props.nextBefore}`} role="button" class="outline">
          Older
        </a>
      )}
    </Layout>
  );
}

// The fleet page (/): every worker at a glance. The live, SSE-driven dashboard builds on this.
import Html from "@kitajs/html";
import { Layout, type Viewer } from "../layout.tsx";
import { FleetTable, type FleetRow } from "../partials/fleet-table.tsx";

export function FleetPage(props: { rows: FleetRow[]; engine: string; viewer: Viewer }): JSX.Element {
  const online = props.rows.filter((r) => r.worker.status === "online").length;
  return (
    <Layout title="Fleet" viewer={props.viewer}>
      <hgroup>
        <h1>Fleet</h1>
        <p safe>{`${props.rows.length} worker${props.rows.length === 1 ? "" : "s"}, ${online} online · storage: ${props.engine}`}</p>
      </hgroup>
      <FleetTable rows={props.rows} />
    </Layout>
  );
}

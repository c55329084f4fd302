// The fleet page (/): a card per worker with live gauges, the free GPUs now, and a filter; every region also streams over SSE.
import Html from "@kitajs/html";
import { Layout, type Viewer } from "../layout.tsx";
import { FleetCards, FleetFilter, FreeGpus, type FleetQuery } from "../partials/fleet-cards.tsx";
import type { CardData } from "../partials/worker-card.tsx";
import type { FreeGpu } from "../../src/fleet/gpus.ts";

export function FleetPage(props: {
  cards: CardData[];
  free: { gpus: FreeGpu[]; total: number };
  query: FleetQuery;
  engine: string;
  viewer: Viewer;
  now: number;
}): JSX.Element {
  return (
    <Layout title="Fleet" viewer={props.viewer}>
      <div class="fleet-toolbar">
        <hgroup>
          <h1>Fleet</h1>
          <p safe>{`storage: ${props.engine}`}</p>
        </hgroup>
        <FleetFilter query={props.query} />
      </div>
      <FreeGpus gpus={props.free.gpus} total={props.free.total} />
      <FleetCards cards={props.cards} query={props.query} now={props.now} />
    </Layout>
  );
}

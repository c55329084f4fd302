// A page that a later part of Vigil fills (alerts, health checks, settings), clearly marked as not built yet.
import Html from "@kitajs/html";
import { Layout, type Viewer } from "../layout.tsx";

export interface PlaceholderSpec {
  title: string;
  /** What the page will show, in one sentence. */
  will: string;
  /** What to use meanwhile. */
  meanwhile: string;
}

export function PlaceholderPage(props: { spec: PlaceholderSpec; viewer: Viewer }): JSX.Element {
  return (
    <Layout title={props.spec.title} viewer={props.viewer}>
      <h1 safe>{props.spec.title}</h1>
      <article class="placeholder" aria-label="Not built yet">
        <p>
          <strong>Not built yet.</strong> <span safe>{props.spec.will}</span>
        </p>
        <p safe>{props.spec.meanwhile}</p>
      </article>
    </Layout>
  );
}

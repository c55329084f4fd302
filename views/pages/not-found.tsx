// The 404 page for a worker, alert or service that an address names but the database does not hold.
import Html from "@kitajs/html";
import { Layout, type Viewer } from "../layout.tsx";

/** `what`: "worker", "alert", "service"; `by`: how it was asked for ("id", "id or name"); `asked` is shown escaped, cut to 200. */
export function NotFoundPage(props: {
  viewer: Viewer;
  what: string;
  by?: string;
  asked: string;
  back: { href: string; text: string };
}): JSX.Element {
  const title = `${props.what[0]!.toUpperCase()}${props.what.slice(1)} not found`;
  return (
    <Layout title={title} viewer={props.viewer}>
      <h1 safe>{title}</h1>
      <p safe>{`No ${props.what} has the ${props.by ?? "id"} "${props.asked.slice(0, 200)}".`}</p>
      <p>
        <a href={props.back.href} safe>
          {props.back.text}
        </a>
      </p>
    </Layout>
  );
}

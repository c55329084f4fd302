// The API docs page (/api/docs), rendered on the server from the OpenAPI document: no scripts, so it works offline and under the CSP.
import Html from "@kitajs/html";
import type { MediaType, OpenApiDocument, Operation, Parameter } from "../../src/routes/openapi.ts";
import { Layout, type Viewer } from "../layout.tsx";

interface Entry {
  method: string;
  path: string;
  op: Operation;
  anchor: string;
}

const ACCESS_LABEL: Record<string, string> = { public: "public", viewer: "viewer", admin: "admin", agent: "agent" };

/** Operations grouped by their first tag, in the document's tag order (untagged ones last). */
function byTag(document: OpenApiDocument): { name: string; description: string; entries: Entry[] }[] {
  const groups = new Map<string, { name: string; description: string; entries: Entry[] }>();
  for (const tag of document.tags) groups.set(tag.name, { ...tag, entries: [] });
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const name = op.tags?.[0] ?? "Other";
      if (!groups.has(name)) groups.set(name, { name, description: "", entries: [] });
      const anchor = `op-${(op.operationId ?? `${method}${path}`).replace(/[^A-Za-z0-9_-]/g, "-")}`;
      groups.get(name)!.entries.push({ method, path, op, anchor });
    }
  }
  return [...groups.values()].filter((g) => g.entries.length > 0);
}

/** One word for the shell: single-quoted, with each ' written as '\''. */
function shellWord(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function exampleText(example: unknown): string {
  return typeof example === "string" ? example : JSON.stringify(example, null, 2);
}

/** A curl line that makes the call with the documented examples; null for the WebSocket, which curl cannot speak. */
export function curlExample(base: string, method: string, path: string, op: Operation): string | null {
  if (op["x-vigil-websocket"]) return null;
  const params = op.parameters ?? [];
  const valueOf = (p: Parameter) => (p.example === undefined ? p.name.toUpperCase() : String(p.example));
  let url =
    base +
    path.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const p = params.find((x) => x.in === "path" && x.name === name);
      return encodeURIComponent(p ? valueOf(p) : name.toUpperCase());
    });
  const query = params.filter((p) => p.in === "query" && (p.required || p.example !== undefined));
  if (query.length) url += `?${query.map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(valueOf(p))}`).join("&")}`;
  const parts = ["curl -sS"];
  if (method !== "get") parts.push(`-X ${method.toUpperCase()}`);
  const access = op["x-vigil-access"];
  if (access === "viewer" || access === "admin") parts.push(`-H "Authorization: Bearer $VIGIL_TOKEN"`);
  if (access === "agent") parts.push(`-H "Authorization: Bearer $VIGIL_AGENT_SECRET"`);
  for (const p of params.filter((x) => x.in === "header")) parts.push(`-H ${shellWord(`${p.name}: ${valueOf(p)}`)}`);
  const body = Object.entries(op.requestBody?.content ?? {})[0];
  if (body && body[1].example !== undefined) {
    parts.push(`-H ${shellWord(`content-type: ${body[0]}`)}`);
    parts.push(`-d ${shellWord(typeof body[1].example === "string" ? body[1].example : JSON.stringify(body[1].example))}`);
  }
  parts.push(shellWord(url));
  return parts.join(" ");
}

function Example(props: { type: string; media: MediaType }): JSX.Element {
  if (props.media.example === undefined) return <></>;
  return (
    <>
      <p>
        <small safe>{props.type}</small>
      </p>
      <pre>
        <code safe>{exampleText(props.media.example)}</code>
      </pre>
    </>
  );
}

function Parameters(props: { params: Parameter[] }): JSX.Element {
  if (props.params.length === 0) return <></>;
  return (
    <figure>
      <table class="list">
        <thead>
          <tr>
            <th>Parameter</th>
            <th>In</th>
            <th>Required</th>
            <th>Description</th>
            <th>Example</th>
          </tr>
        </thead>
        <tbody>
          {props.params.map((p) => (
            <tr>
              <td>
                <code safe>{p.name}</code>
              </td>
              <td safe>{p.in}</td>
              <td>{p.required ? "yes" : "no"}</td>
              <td class="text" safe>
                {p.description ?? ""}
              </td>
              <td class="text">{p.example === undefined ? "" : <code safe>{exampleText(p.example)}</code>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

function OperationBlock(props: { entry: Entry; base: string }): JSX.Element {
  const { method, path, op, anchor } = props.entry;
  const access = op["x-vigil-access"] ?? "public";
  const curl = curlExample(props.base, method, path, op);
  const responses = Object.entries(op.responses);
  return (
    <article id={anchor} class="api-op">
      <header>
        <code class={`api-method api-method-${method}`} safe>
          {op["x-vigil-websocket"] ? "GET (WebSocket)" : method.toUpperCase()}
        </code>{" "}
        <code safe>{path}</code>{" "}
        <span class={`api-access api-access-${ACCESS_LABEL[access] ?? "public"}`} safe>
          {ACCESS_LABEL[access] ?? "public"}
        </span>
      </header>
      {op.summary ? (
        <p>
          <strong safe>{op.summary}</strong>
        </p>
      ) : (
        ""
      )}
      {(op.description ?? "").split(/\n\n+/).map((para) => (para.trim() ? <p safe>{para}</p> : ""))}
      <Parameters params={op.parameters ?? []} />
      {op.requestBody ? (
        <>
          <h4>Request body</h4>
          {op.requestBody.description ? <p safe>{op.requestBody.description}</p> : ""}
          {Object.entries(op.requestBody.content).map(([type, media]) => (
            <Example type={type} media={media} />
          ))}
        </>
      ) : (
        ""
      )}
      {curl ? (
        <>
          <h4>Example</h4>
          <pre>
            <code safe>{curl}</code>
          </pre>
        </>
      ) : (
        ""
      )}
      <h4>Responses</h4>
      {responses.map(([status, response], i) => (
        <details open={i === 0}>
          <summary safe>{`${status} · ${response.description}`}</summary>
          {Object.entries(response.content ?? {}).map(([type, media]) => (
            <Example type={type} media={media} />
          ))}
        </details>
      ))}
    </article>
  );
}

export function ApiDocsPage(props: { document: OpenApiDocument; viewer: Viewer; base: string }): JSX.Element {
  const groups = byTag(props.document);
  return (
    <Layout title="API" viewer={props.viewer}>
      <h1 safe>{props.document.info.title}</h1>
      <p safe>{props.document.info.description}</p>
      <p>
        <span safe>{`The same as OpenAPI ${props.document.openapi}, for tools and code generators:`}</span>{" "}
        <a href="/api/openapi.json">/api/openapi.json</a>. The examples below read the token from <code>$VIGIL_TOKEN</code>.
      </p>
      <div class="api-toc" role="navigation" aria-label="Endpoints">
        {groups.map((g) => (
          <>
            <p class="api-toc-tag">
              <a href={`#tag-${g.name}`} safe>
                {g.name}
              </a>
            </p>
            <ul>
              {g.entries.map((e) => (
                <li>
                  <a href={`#${e.anchor}`}>
                    <code safe>{`${e.method.toUpperCase()} ${e.path}`}</code>
                  </a>{" "}
                  <span safe>{e.op.summary ?? ""}</span>
                </li>
              ))}
            </ul>
          </>
        ))}
      </div>
      {groups.map((g) => (
        <section id={`tag-${g.name}`}>
          <h2 safe>{g.name}</h2>
          {g.description ? <p safe>{g.description}</p> : ""}
          {g.entries.map((entry) => (
            <OperationBlock entry={entry} base={props.base} />
          ))}
        </section>
      ))}
    </Layout>
  );
}

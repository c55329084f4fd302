// The page shell every full page renders in: Pico styling, navigation for the signed-in user, footer with the version.
import Html from "@kitajs/html";
import { VERSION } from "../src/version.ts";

/** Who is looking at the page, for the navigation; null on the sign-in page. */
export interface Viewer {
  name: string;
  role: "admin" | "viewer";
}

export function Layout(props: { title: string; viewer: Viewer | null; children?: Html.Children }): JSX.Element {
  const v = props.viewer;
  return (
    <>
      {"<!doctype html>"}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="color-scheme" content="light dark" />
          <title safe>{`${props.title} · Vigil`}</title>
          <link rel="stylesheet" href="/static/pico.min.css" />
          <link rel="stylesheet" href="/static/vigil.css" />
        </head>
        <body>
          <header class="site container">
            <nav>
              <ul>
                <li>
                  <strong>Vigil</strong>
                </li>
              </ul>
              {v ? (
                <ul>
                  <li>
                    <a href="/">Fleet</a>
                  </li>
                  {v.role === "admin" ? (
                    <>
                      <li>
                        <a href="/admin/users">Users</a>
                      </li>
                      <li>
                        <a href="/admin/tokens">Tokens</a>
                      </li>
                      <li>
                        <a href="/admin/audit">Audit</a>
                      </li>
                    </>
                  ) : (
                    ""
                  )}
                  <li>
                    <a href="/account/password" class="secondary" title="Change your password" safe>
                      {v.name.length > 40 ? `${v.name.slice(0, 40)}…` : v.name}
                    </a>
                  </li>
                  <li>
                    <form method="post" action="/logout" class="inline">
                      <button type="submit" class="outline secondary">
                        Sign out
                      </button>
                    </form>
                  </li>
                </ul>
              ) : (
                ""
              )}
            </nav>
          </header>
          <main class="container">{props.children}</main>
          <footer class="site container">
            <small safe>{`Vigil ${VERSION}`}</small>
          </footer>
        </body>
      </html>
    </>
  );
}

/** A one-line notice above a page's content: what just happened, or what went wrong. */
export function Notice(props: { kind: "ok" | "error"; text: string | undefined }): JSX.Element {
  if (!props.text) return <></>;
  return (
    <article class={`notice notice-${props.kind}`} role={props.kind === "error" ? "alert" : "status"} safe>
      {props.text}
    </article>
  );
}

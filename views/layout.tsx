// The page shell every full page renders in: Pico styling, navigation, footer with the version.
import Html from "@kitajs/html";
import { VERSION } from "../src/version.ts";

export function Layout(props: { title: string; children?: Html.Children }): JSX.Element {
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
              <ul>
                <li>
                  <a href="/">Fleet</a>
                </li>
                <li>
                  <a href="/api/v1/metrics/current">API</a>
                </li>
              </ul>
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

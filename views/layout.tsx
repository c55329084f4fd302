// The page shell every full page renders in: Pico styling, navigation for the signed-in user, footer with the version.
import Html from "@kitajs/html";
import { VERSION } from "../src/version.ts";
import { FleetStatus, type FleetStatusSummary } from "./partials/fleet-status.tsx";
import { assetUrl } from "../static/index.ts";

/** Who is looking at the page, and what the navigation shows them; null on the sign-in page. */
export interface Viewer {
  name: string;
  role: "admin" | "viewer";
  /** The fleet at a glance in the navigation bar (src/live/regions/fleet-status.tsx reads it); absent: not shown. */
  fleetStatus?: FleetStatusSummary;
  /** The live view this page streams from /events (src/live/registry.ts); absent: the page is a static snapshot. */
  live?: string;
}

export function Layout(props: { title: string; viewer: Viewer | null; styles?: string[]; children?: Html.Children }): JSX.Element {
  const v = props.viewer;
  return (
    <>
      {"<!doctype html>"}
      <html lang="en" data-theme="dark">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="color-scheme" content="light dark" />
          <title safe>{`${props.title} · Vigil`}</title>
          <link rel="stylesheet" href={assetUrl("pico.min.css")} />
          <link rel="stylesheet" href={assetUrl("vigil.css")} />
          <link rel="stylesheet" href={assetUrl("dashboard.css")} />
          {/* Not deferred: it sets the remembered theme before the first paint. */}
          <script src={assetUrl("theme.js")}></script>
          {(props.styles ?? []).map((href) => (
            <link rel="stylesheet" href={href} />
          ))}
        </head>
        <body>
          <header class="site container">
            <nav>
              <ul>
                <li>
                  <a href="/" class="brand">
                    Vigil
                  </a>
                </li>
                {v?.fleetStatus ? <FleetStatus status={v.fleetStatus} /> : ""}
              </ul>
              {v ? (
                <ul>
                  <li>
                    <a href="/">Fleet</a>
                  </li>
                  <li>
                    <a href="/alerts">Alerts</a>
                  </li>
                  <li>
                    <a href="/health">Health</a>
                  </li>
                  <li>
                    <a href="/api/docs">API</a>
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
                    {/* Hidden until theme.js shows it: without JavaScript the page stays in the dark default. */}
                    <button
                      type="button"
                      class="outline secondary theme-toggle"
                      data-theme-toggle
                      hidden
                      aria-label="Switch to the light theme"
                      title="Switch to the light theme"
                    >
                      ◐
                    </button>
                  </li>
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
          {v?.live ? (
            // One stream per page. hx-swap="none": an error answer (401, 503) must never replace the page; messages swap only
            // their <hx-partial> blocks. Without JavaScript none of this runs and the page is a static snapshot.
            <div id="live" class="container" hx-sse:connect={`/events?view=${encodeURIComponent(v.live)}`} hx-swap="none">
              <article id="live-banner" class="notice notice-error" role="status" hidden>
                Live updates paused: reconnecting…
              </article>
            </div>
          ) : (
            ""
          )}
          <main class="container">{props.children}</main>
          <footer class="site container">
            <small safe>{`Vigil ${VERSION}`}</small>
          </footer>
          {v?.live ? (
            <>
              {/*
               * At the end of the body and not deferred: htmx starts itself on a timer when the document is already
               * parsed, and a deferred hx-sse that had not finished loading by then was never registered, so in about
               * one load in four the page opened no stream and showed no banner. Run in order, the extension is there first.
               */}
              <script src={assetUrl("htmx.min.js")}></script>
              <script src={assetUrl("hx-sse.min.js")}></script>
              <script src={assetUrl("live.js")}></script>
            </>
          ) : (
            ""
          )}
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

// Shows the "live updates paused" banner while the page's SSE stream is down; htmx's hx-sse extension reconnects by itself (with backoff).
(() => {
  const banner = () => document.getElementById("live-banner");
  const show = (paused, text = "Live updates paused: reconnecting…") => {
    const b = banner();
    if (!b) return;
    b.hidden = !paused;
    if (paused) b.textContent = text;
  };
  // htmx retries a stream that was open, not a first request that failed.
  const unavailable = () => show(true, "Live updates unavailable: this page shows the state when it was loaded. Reload to try again.");
  const fromStream = (e) => e.target instanceof Element && e.target.id === "live";
  // Connected (first time or again): the stream's first message repaints every region, so nothing on screen is stale.
  document.addEventListener("htmx:sse:after:connection", (e) => fromStream(e) && show(false));
  document.addEventListener("htmx:sse:error", (e) => fromStream(e) && show(true));
  // attempt > 0: the stream ended or failed and htmx is about to try again.
  document.addEventListener("htmx:sse:before:connection", (e) => fromStream(e) && e.detail?.connection?.attempt > 0 && show(true));
  document.addEventListener("htmx:sse:close", (e) => fromStream(e) && e.detail?.reason !== "removed" && show(true));
  // The first request failed (head down, 503): htmx does not retry that one; the page stays a snapshot.
  document.addEventListener("htmx:error", (e) => fromStream(e) && unavailable());
  document.addEventListener("htmx:response:error", (e) => fromStream(e) && unavailable());
})();

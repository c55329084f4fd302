// The HTTP probe: a GET from the worker's side, so a service bound to the worker's localhost can be checked; status and latency only.
import type { ProbeResult } from "../../src/protocol/messages.ts";
import { networkErrorText, seconds, type ProbeContext } from "./context.ts";

/**
 * Any address is allowed, unlike the head's own HTTP checks: the agent looks at its own worker's
 * services, which is the point. What keeps it from being a way to read the worker's network is that
 * only the status comes back: the body is never read, and redirects are reported, not followed.
 */
export async function httpProbe(probe: { url: string; timeoutMs: number }, ctx: ProbeContext): Promise<ProbeResult<"http">> {
  let url: URL;
  try {
    url = new URL(probe.url);
  } catch {
    throw new Error(`${JSON.stringify(probe.url)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`${url.protocol.slice(0, -1)} URLs are not probed; use http or https`);
  const timeoutMs = Math.min(probe.timeoutMs, ctx.timeoutMs);
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(url, {
      method: "GET",
      redirect: "manual",
      headers: { "user-agent": "vigil-agent probe" },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const name = (err as Error | null)?.name;
    if (name === "TimeoutError" || name === "AbortError") throw new Error(`${url.href} did not answer within ${seconds(timeoutMs)}`);
    throw new Error(`${url.href}: ${networkErrorText(err)}`);
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  void res.body?.cancel().catch(() => {});
  const location = res.headers.get("location");
  return {
    url: url.href.slice(0, 2048),
    status: res.status,
    statusText: res.statusText.slice(0, 200),
    latencyMs,
    ...(location !== null ? { location: location.slice(0, 2048) } : {}),
  };
}

// The TCP probe: can a connection to host:port be opened from the worker's side, and how long it took.
import type { ProbeResult } from "../../src/protocol/messages.ts";
import { networkErrorText, seconds, type ProbeContext } from "./context.ts";

export async function tcpProbe(probe: { host: string; port: number; timeoutMs: number }, ctx: ProbeContext): Promise<ProbeResult<"tcp">> {
  if (!/^[A-Za-z0-9.:_[\]%-]+$/.test(probe.host)) throw new Error(`${JSON.stringify(probe.host)} is not a host name or address`);
  // Brackets are URL syntax; Bun.connect wants the bare IPv6 address.
  const hostname = probe.host.replace(/^\[(.*)\]$/, "$1");
  const timeoutMs = Math.min(probe.timeoutMs, ctx.timeoutMs);
  const where = `${probe.host}:${probe.port}`;
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const connecting = Bun.connect({ hostname, port: probe.port, socket: { data() {}, error() {} } });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new Error(`${where} did not accept a connection within ${seconds(timeoutMs)}`));
    }, timeoutMs);
  });
  try {
    const socket = await Promise.race([connecting, timeout]);
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    socket.end();
    return { host: probe.host, port: probe.port, latencyMs };
  } catch (err) {
    if (timedOut) {
      // A connection that opens after the deadline is closed at once.
      void connecting.then((s) => s.end()).catch(() => {});
      throw err;
    }
    throw new Error(`${where}: ${networkErrorText(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

// The TCP port check: a connection to host:port (allowed by the outbound policy), opened and closed at once, judged on whether and how fast it opened.
import { Type, type Static } from "@sinclair/typebox";
import type { Checker, CheckContext, CheckOutcome } from "./checker.ts";
import { bare, connectTcp, resolvedAddresses } from "./connect.ts";
import { answered, diagnoseLines, errorText, failure, neverThrows, roundMs, withDeadline } from "./outcome.ts";

export const tcpSchema = Type.Object(
  {
    host: Type.String({
      minLength: 1,
      pattern: "^[^\\s/]+$",
      description: "Host name or IP address to connect to (an IPv6 address bare or in brackets).",
      examples: ["db.internal", "10.0.0.5"],
    }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: "The TCP port.", examples: [5432] }),
  },
  { additionalProperties: false },
);

export type TcpConfig = Static<typeof tcpSchema>;

/** "host:port", with an IPv6 address bracketed. */
export function hostPort(host: string, port: number): string {
  const h = bare(host);
  return `${h.includes(":") ? `[${h}]` : h}:${port}`;
}

async function runTcp(config: TcpConfig, ctx: CheckContext): Promise<CheckOutcome> {
  const where = `TCP ${hostPort(config.host, config.port)}`;
  const details: Record<string, unknown> = { host: config.host, port: config.port };
  try {
    const c = await withDeadline(ctx, async (signal) => {
      await ctx.checkHost(config.host);
      return connectTcp(config.host, config.port, signal);
    });
    details.address = c.remoteAddress;
    return answered(c.latencyMs, ctx, `connected in ${Math.round(c.latencyMs)} ms`, details);
  } catch (err) {
    return failure(where, err, details);
  }
}

export const tcp: Checker<typeof tcpSchema> = {
  kind: "tcp",
  label: "TCP port",
  schema: tcpSchema,
  needsWorker: false,
  run: (config, ctx) => neverThrows(`TCP ${hostPort(config.host, config.port)}`, () => runTcp(config, ctx)),
  diagnose: (config, ctx) =>
    diagnoseLines(async (lines) => {
      try {
        await ctx.checkHost(config.host);
      } catch (err) {
        lines.push(`${config.host}: ${errorText(err)}`);
        return;
      }
      const addresses = await resolvedAddresses(config.host);
      lines.push(`${config.host} resolves to ${addresses.join(", ")} (allowed by the outbound policy)`);
      // Each address on its own: a name whose IPv6 address is dead but IPv4 answers shows up here.
      for (const address of addresses) {
        try {
          const c = await withDeadline(ctx, (signal) => connectTcp(address, config.port, signal));
          lines.push(`${hostPort(address, config.port)}: connected in ${roundMs(c.latencyMs)} ms`);
        } catch (err) {
          lines.push(`${hostPort(address, config.port)}: ${errorText(err)}`);
        }
      }
    }),
};

// `vigil token create|list|revoke`: API tokens for scripts; the token is printed once and stored only as a hash.
import { ConfigError, parseCommandConfig } from "../config.ts";
import type { OperationName } from "../admin/operations.ts";
import type { TokenInfo } from "../auth/tokens.ts";
import { setLogLevel } from "../log.ts";
import type { Command } from "./command.ts";
import { printTable } from "./output.ts";

const settings = ["tokenName", "role", "expires", "json", "dataDir", "databaseUrl", "logLevel", "pgliteSharedBuffers"] as const;

export const tokenCommand: Command = {
  name: "token",
  summary: "manage API tokens: create, list, revoke",
  usage: "vigil token create --name NAME --role admin|viewer [--expires 30d] | list [--json] | revoke ID",
  settings,
  details:
    "create prints the token once on stdout (only a hash is kept). Use it as\n" +
    '  curl -H "Authorization: Bearer $TOKEN" http://HEAD:8480/api/v1/workers',
  async run(argv) {
    const runOperation = async (c: typeof config, op: OperationName, args: Record<string, unknown>) =>
      (await import("../admin/client.ts")).runOperation(c, op, args);
    const { config, positionals } = parseCommandConfig("token", settings, argv);
    setLogLevel(config.logLevel);
    const [action, arg] = positionals;
    switch (action) {
      case "create": {
        if (!config.tokenName) throw new ConfigError("token create: say what it is for with --name, e.g. --name grafana");
        if (!config.role) throw new ConfigError("token create: say --role viewer (read) or --role admin");
        const r = (await runOperation(config, "token.create", {
          name: config.tokenName,
          role: config.role,
          expiresSeconds: config.expires,
        })) as {
          token: string;
          info: TokenInfo;
        };
        console.error(
          `created ${r.info.role} token ${r.info.id} "${r.info.name}"${r.info.expiresAt ? `, expires ${r.info.expiresAt}` : ""}; it is shown once:`,
        );
        console.log(r.token);
        return 0;
      }
      case "list": {
        const r = (await runOperation(config, "token.list", {})) as { tokens: TokenInfo[] };
        if (config.json) console.log(JSON.stringify(r.tokens, null, 2));
        else
          printTable(
            ["ID", "NAME", "ROLE", "STATUS", "EXPIRES", "LAST USED"],
            r.tokens.map((t) => [
              String(t.id),
              t.name,
              t.role,
              t.status,
              t.expiresAt ?? "never",
              t.lastUsedAt ? `${t.lastUsedAt} from ${t.lastUsedIp}` : "never",
            ]),
          );
        return 0;
      }
      case "revoke": {
        if (!arg) throw new ConfigError("token revoke: which token? give its ID (see vigil token list)");
        const r = (await runOperation(config, "token.revoke", { id: Number(arg) })) as { token: TokenInfo };
        console.error(`revoked token ${r.token.id} "${r.token.name}"`);
        return 0;
      }
      default:
        throw new ConfigError(`token: expected create, list or revoke${action ? `, not '${action}'` : ""}; see 'vigil token --help'`);
    }
  },
};

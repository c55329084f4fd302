// `vigil user add|passwd|role|remove|list`: manage accounts from the head's shell (through the running head when it holds the database).
import { ConfigError, parseCommandConfig } from "../config.ts";
import type { OperationName } from "../admin/operations.ts";
import type { UserInfo } from "../auth/users.ts";
import { setLogLevel } from "../log.ts";
import type { Command } from "./command.ts";
import { printTable, readSecretFromStdin } from "./output.ts";

const settings = ["role", "passwordStdin", "json", "dataDir", "databaseUrl", "logLevel", "pgliteSharedBuffers"] as const;

export const userCommand: Command = {
  name: "user",
  summary: "manage users: add, passwd, role, remove, list",
  usage:
    "vigil user add NAME --role admin|viewer [--password-stdin] | passwd NAME [--password-stdin] | role NAME --role R | remove NAME | list [--json]",
  settings,
  details:
    "Without --password-stdin a random password is generated and printed once.\n" +
    "Changing a password or removing a user ends all of that user's sessions; removing also revokes the tokens they created.",
  async run(argv) {
    const runOperation = async (c: typeof config, op: OperationName, args: Record<string, unknown>) =>
      (await import("../admin/client.ts")).runOperation(c, op, args);
    const { config, positionals } = parseCommandConfig("user", settings, argv);
    setLogLevel(config.logLevel);
    const [action, name, ...extra] = positionals;
    if (extra.length) throw new ConfigError(`user: unexpected argument '${extra[0]}' (quote names with spaces)`);
    const needName = () => {
      if (!name) throw new ConfigError(`user ${action}: which user? e.g. vigil user ${action} alice`);
      return name;
    };
    const password = async () => (config.passwordStdin ? readSecretFromStdin("password") : undefined);
    switch (action) {
      case "add": {
        if (!config.role) throw new ConfigError("user add: say --role admin or --role viewer");
        const r = (await runOperation(config, "user.add", { name: needName(), role: config.role, password: await password() })) as {
          user: UserInfo;
          generatedPassword?: string;
        };
        console.error(`added ${r.user.role} ${r.user.name}`);
        if (r.generatedPassword) console.log(r.generatedPassword);
        return 0;
      }
      case "passwd": {
        const r = (await runOperation(config, "user.passwd", { name: needName(), password: await password() })) as {
          user: UserInfo;
          generatedPassword?: string;
        };
        console.error(`password of ${r.user.name} changed; their sessions were ended`);
        if (r.generatedPassword) console.log(r.generatedPassword);
        return 0;
      }
      case "role": {
        if (!config.role) throw new ConfigError("user role: say --role admin or --role viewer");
        const r = (await runOperation(config, "user.role", { name: needName(), role: config.role })) as { user: UserInfo };
        console.error(`${r.user.name} is now ${r.user.role}`);
        return 0;
      }
      case "remove": {
        await runOperation(config, "user.remove", { name: needName() });
        console.error(`removed ${name}; their sessions ended and their tokens were revoked`);
        return 0;
      }
      case "list": {
        const r = (await runOperation(config, "user.list", {})) as { users: UserInfo[] };
        if (config.json) console.log(JSON.stringify(r.users, null, 2));
        else
          printTable(
            ["ID", "NAME", "ROLE", "LAST SIGN-IN"],
            r.users.map((u) => [String(u.id), u.name, u.role, u.lastLoginAt ?? "never"]),
          );
        return 0;
      }
      default:
        throw new ConfigError(
          `user: expected add, passwd, role, remove or list${action ? `, not '${action}'` : ""}; see 'vigil user --help'`,
        );
    }
  },
};

// A real OpenSSH server on a loopback port for `make deploy`'s test: throwaway host and client keys, every file in a temp dir.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "./process.ts";

/** Same lookup as scripts/ensure-sshd.sh. */
export function findSshd(): string | undefined {
  for (const c of [process.env.VIGIL_SSHD, "/usr/sbin/sshd"]) if (c && existsSync(c)) return c;
  return undefined;
}

export interface Sshd {
  port: number;
  /** An ssh_config naming `aliases` (all this server) plus `down` (a closed port), with the key and known host set. */
  config: string;
  output(): string;
  stop(): Promise<void>;
}

function keygen(path: string): void {
  const r = Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vigil-deploy-test", "-f", path]);
  if (r.exitCode !== 0) throw new Error(`ssh-keygen failed: ${r.stderr.toString()}`);
}

/** Starts sshd as the current user (root in CI; as anyone else it can only log in that same user, which is all the test needs). */
export async function startSshd(dir: string, aliases: string[], down: string): Promise<Sshd> {
  const sshd = findSshd();
  if (!sshd) throw new Error("no sshd: run scripts/ensure-sshd.sh (apt-get install openssh-server)");
  mkdirSync(dir, { recursive: true });
  const port = freePort();
  const hostKey = join(dir, "host_ed25519");
  const clientKey = join(dir, "client_ed25519");
  keygen(hostKey);
  keygen(clientKey);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(`${clientKey}.pub`));
  const hostPub = readFileSync(`${hostKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
  writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${port} ${hostPub}\n`);
  // Privilege separation wants this directory (Debian's service makes it at boot).
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const sshdConfig = join(dir, "sshd_config");
  writeFileSync(
    sshdConfig,
    [
      `ListenAddress 127.0.0.1`,
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      `PermitRootLogin prohibit-password`,
      `PasswordAuthentication no`,
      `KbdInteractiveAuthentication no`,
      `UsePAM no`,
      // The temp dir is not root-owned all the way up as sshd's StrictModes wants for key files.
      `StrictModes no`,
      `PrintMotd no`,
      `LogLevel ERROR`,
      `MaxSessions 50`,
      `MaxStartups 50`,
    ].join("\n") + "\n",
  );
  const closed = freePort();
  const config = join(dir, "ssh_config");
  // Not os.userInfo(): Bun 1.4.5 answers "unknown" for its username here.
  const user = Bun.spawnSync(["id", "-un"]).stdout.toString().trim();
  writeFileSync(
    config,
    [
      `Host ${aliases.join(" ")}`,
      `  HostName 127.0.0.1`,
      `  Port ${port}`,
      `Host ${down}`,
      `  HostName 127.0.0.1`,
      `  Port ${closed}`,
      `Host *`,
      `  User ${user}`,
      `  IdentityFile ${clientKey}`,
      `  IdentitiesOnly yes`,
      `  UserKnownHostsFile ${join(dir, "known_hosts")}`,
      `  StrictHostKeyChecking yes`,
    ].join("\n") + "\n",
  );
  const proc: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn([sshd, "-D", "-e", "-f", sshdConfig], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  const decoder = new TextDecoder();
  void (async () => {
    const reader = proc.stderr.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
  })();
  // Ready when a client gets through.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = Bun.spawnSync(["ssh", "-F", config, "-o", "BatchMode=yes", "-o", "ConnectTimeout=2", aliases[0]!, "true"]);
    if (r.exitCode === 0) break;
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`sshd did not accept a login: ${r.stderr.toString().trim()}\n${text}`);
    }
    await Bun.sleep(100);
  }
  return {
    port,
    config,
    output: () => text,
    stop: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

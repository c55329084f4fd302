// Runs shell scripts on a host over OpenSSH (one multiplexed connection per host) and says plainly why one failed.
import { shq } from "./units.ts";

export interface SshOptions {
  /** An ssh_config file (-F), e.g. with the hosts' aliases, users, ports and keys. */
  config?: string;
  /** Where the multiplexing sockets live (short: a Unix socket path is limited to about 100 bytes). */
  controlDir: string;
  /** A directory put first on the remote PATH (tests: a fake systemctl and journalctl). */
  remotePath?: string;
}

export interface RemoteResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** ssh itself failed (exit 255): no connection, refused key, unknown host key. */
export class SshError extends Error {
  constructor(
    readonly target: string,
    detail: string,
  ) {
    super(`cannot reach ${target} over SSH: ${detail}`);
    this.name = "SshError";
  }
}

export class Ssh {
  constructor(private readonly o: SshOptions) {}

  private argv(target: string): string[] {
    return [
      "ssh",
      ...(this.o.config ? ["-F", this.o.config] : []),
      // Never a password or host-key prompt in the middle of a deploy: keys and known hosts are set up beforehand.
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=10",
      "-o",
      "ServerAliveInterval=15",
      // One TCP connection and one authentication per host for the dozen commands a deploy runs there.
      "-o",
      "ControlMaster=auto",
      "-o",
      `ControlPath=${this.o.controlDir}/%C`,
      "-o",
      "ControlPersist=60",
      "-o",
      "LogLevel=ERROR",
      target,
    ];
  }

  /**
   * Runs `script` with /bin/sh on `target` (whatever the login shell is), with `stdin` (a file path or text) as its input.
   * Resolves with the script's exit status; rejects with SshError when ssh could not run it at all.
   */
  async run(target: string, script: string, stdin?: { file: string } | { text: string }): Promise<RemoteResult> {
    const body = this.o.remotePath ? `PATH=${shq(this.o.remotePath)}:"$PATH"; export PATH\n${script}` : script;
    const proc = Bun.spawn([...this.argv(target), `sh -c ${shq(body)}`], {
      stdin: stdin === undefined ? "ignore" : "file" in stdin ? Bun.file(stdin.file) : new TextEncoder().encode(stdin.text),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code === 255) {
      const last = stderr.trim().split("\n").filter(Boolean).at(-1) ?? "ssh exited with status 255";
      throw new SshError(target, last);
    }
    return { code, stdout, stderr };
  }

  /** Like run, but a non-zero status is an Error carrying what the script printed. */
  async check(target: string, script: string, what: string, stdin?: { file: string } | { text: string }): Promise<string> {
    const r = await this.run(target, script, stdin);
    if (r.code !== 0) {
      const said = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-5).join("\n    ");
      throw new Error(`${what} failed on ${target} (exit ${r.code})${said ? `:\n    ${said}` : ""}`);
    }
    return r.stdout;
  }

  /** Closes the multiplexed connection to `target`, if one is open. */
  async close(target: string): Promise<void> {
    const proc = Bun.spawn([...this.argv(target).slice(0, -1), "-O", "exit", target], { stdout: "ignore", stderr: "ignore" });
    await proc.exited;
  }
}

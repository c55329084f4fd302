// Who runs a GPU process: its name, user and container id, read from /proc/<pid> (both GPU sources use it).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface ProcessOwner {
  name: string | null;
  user: string | null;
  container: string | null;
}

/** "Name:" of /proc/<pid>/status (the kernel's 15-character comm), or the first word of cmdline when longer. */
export function parseProcessName(status: string, cmdline: string | null): string | null {
  const comm = /^Name:\s*(.*)$/m.exec(status)?.[1]?.trim() ?? null;
  const argv0 = cmdline?.split("\0")[0];
  const base = argv0 ? argv0.split("/").at(-1)! : null;
  // comm is truncated at 15 characters; prefer the executable's own name when comm is its prefix.
  if (comm && base && base.startsWith(comm) && base.length > comm.length) return base;
  return comm ?? base ?? null;
}

/** The real uid from the "Uid:" line of /proc/<pid>/status. */
export function parseUid(status: string): number | null {
  const m = /^Uid:\s*(\d+)/m.exec(status);
  return m ? Number(m[1]) : null;
}

/** uid -> name from an /etc/passwd text. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split("\n")) {
    const [name, , uid] = line.split(":");
    if (name && uid !== undefined && /^\d+$/.test(uid) && !users.has(Number(uid))) users.set(Number(uid), name);
  }
  return users;
}

/**
 * The container a process runs in, from its cgroup path: Docker (`docker-<id>.scope`, `/docker/<id>`),
 * containerd and CRI-O under Kubernetes (`cri-containerd-<id>`, `crio-<id>`), Podman (`libpod-<id>`).
 * Returns the first 12 hex digits, as `docker ps` shows them; null outside a container.
 */
export function parseContainerId(cgroup: string): string | null {
  const m =
    /(?:docker|cri-containerd|crio|libpod|containerd)[-/]([0-9a-f]{64})/.exec(cgroup) ?? /\/([0-9a-f]{64})(?:\.scope)?\s*$/m.exec(cgroup);
  return m ? m[1]!.slice(0, 12) : null;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** Looks processes up under a /proc root; user names come from the passwd file beside it. */
export class ProcessDirectory {
  private users: Map<number, string> | undefined;
  private usersReadAt = 0;

  constructor(private readonly procRoot = "/proc") {}

  private userName(uid: number): string {
    // Re-read now and then: accounts are added while the agent runs.
    if (!this.users || Date.now() - this.usersReadAt > 60_000) {
      this.users = parsePasswd(read(join(dirname(this.procRoot), "etc/passwd")) ?? "");
      this.usersReadAt = Date.now();
    }
    return this.users.get(uid) ?? String(uid);
  }

  /** A process that ended meanwhile (or lives in another PID namespace) gives nulls, not an error. */
  describe(pid: number): ProcessOwner {
    const dir = join(this.procRoot, String(pid));
    const status = read(join(dir, "status"));
    if (status === null) return { name: null, user: null, container: null };
    const uid = parseUid(status);
    const cgroup = read(join(dir, "cgroup"));
    return {
      name: parseProcessName(status, read(join(dir, "cmdline"))),
      user: uid === null ? null : this.userName(uid),
      container: cgroup ? parseContainerId(cgroup) : null,
    };
  }
}

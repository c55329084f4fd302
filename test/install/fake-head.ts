// A throwaway HTTP server standing in for the head's download endpoints, and a runner for install.sh, for the install and update tests.
import type { Server } from "bun";

export interface FakeHead {
  url: string;
  /** Requests seen, as "METHOD /path". */
  requests: string[];
  /** What the server hands out from now on (the binary, and the sha256 it announces; default: the binary's own). */
  serve(binary: Uint8Array<ArrayBuffer> | string, announcedSha256?: string): void;
  stop(): void;
}

export function sha256Hex(data: Uint8Array | string): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

/** Serves /download/vigil-linux-x64 and its .sha256 like the head does; anything else is 404. */
export function startFakeHead(): FakeHead {
  let body: Uint8Array<ArrayBuffer> = new Uint8Array();
  let sha = sha256Hex(body);
  const requests: string[] = [];
  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      requests.push(`${req.method} ${path}`);
      if (path === "/download/vigil-linux-x64") {
        return new Response(body, { headers: { "content-type": "application/octet-stream", "x-vigil-sha256": sha } });
      }
      if (path === "/download/vigil-linux-x64.sha256") return new Response(`${sha}  vigil-linux-x64\n`);
      return Response.json({ error: "not found" }, { status: 404 });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    serve(binary, announced) {
      body = typeof binary === "string" ? new TextEncoder().encode(binary) : binary;
      sha = announced ?? sha256Hex(body);
    },
    stop: () => void server.stop(true),
  };
}

/** Runs an install script the way the one-liner does (`curl … | sh -s -- ARGS`): the script arrives on stdin. */
export async function runInstaller(script: string, args: string[], env: Record<string, string> = {}, wrap: string[] = []) {
  const proc = Bun.spawn([...wrap, "sh", "-s", "--", ...args], {
    stdin: new TextEncoder().encode(script),
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

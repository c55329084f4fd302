// GET /install.sh and /download/vigil-linux-x64: what a fresh worker installs the agent from (public: it has no credential yet).
import { Elysia } from "elysia";
import { stat } from "node:fs/promises";
import type { HeadContext } from "../head/context.ts";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";
import { VERSION } from "../version.ts";
import { isCompiledBinary, sha256File } from "../../agent/update.ts";
// Imported as text so `bun build --compile` embeds them. There is no `*.sh` / `*.service` module declaration in
// src/types/assets.d.ts yet; once there is, these two ts-ignore lines can go.
import installTemplate from "../../scripts/install.sh" with { type: "text" };
import agentUnit from "../../scripts/systemd/vigil-agent.service" with { type: "text" };

export const BINARY_NAME = "vigil-linux-x64";
export const DOWNLOAD_PATH = `/download/${BINARY_NAME}`;

export interface BinaryInfo {
  path: string;
  sha256: string;
  size: number;
}

/** One DNS label: letters, digits, inner hyphens. */
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
/**
 * hostname[:port] or [ipv6][:port], and nothing else. The Host header is the client's to choose, and its value ends
 * up in a script run as root: a strict shape keeps quotes, `$(...)`, `;` and spaces out before quoting even matters.
 */
const HOST_PORT = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9A-Fa-f:.]{2,45}\\])(?::(\\d{1,5}))?$`);

/** The Host header (or a trusted proxy's X-Forwarded-Host) if it is a plain hostname[:port], else null. */
export function validHost(host: string | null | undefined): string | null {
  if (!host || host.length > 260) return null;
  const m = HOST_PORT.exec(host);
  if (!m) return null;
  if (m[1] !== undefined && (Number(m[1]) < 1 || Number(m[1]) > 65535)) return null;
  return host;
}

/** A string as one single-quoted shell word: '…', with each ' written as '\''. */
function shellQuoted(value: string): string {
  return value.replaceAll("'", `'\\''`);
}

/**
 * The installer for workers of the head at `headUrl` (scheme://host[:port]). Values go inside the template's single
 * quotes (escaped for them) and the unit into a quoted here-document, so none of it is ever read as shell code.
 */
export function renderInstallScript(headUrl: string): string {
  const url = new URL(headUrl);
  if ((url.protocol !== "http:" && url.protocol !== "https:") || !validHost(url.host) || url.origin !== headUrl.replace(/\/$/, "")) {
    throw new Error(`not a head URL (scheme://host[:port]): ${headUrl}`);
  }
  const unit = agentUnit as string;
  if (/^VIGIL_UNIT_EOF$/m.test(unit)) throw new Error("vigil-agent.service contains the here-document terminator VIGIL_UNIT_EOF");
  return (installTemplate as string)
    .replaceAll("@@VIGIL_HEAD_URL@@", shellQuoted(url.origin))
    .replaceAll("@@VIGIL_VERSION@@", shellQuoted(VERSION))
    .replace("@@VIGIL_AGENT_UNIT@@", () => unit.trimEnd());
}

let hashed: { key: string; info: Promise<BinaryInfo> } | undefined;

/**
 * The running binary, its size and sha256, or null when running from source (there is no binary to hand out).
 * The hash is computed once per file version (path, inode, size, mtime), so a binary replaced on disk is hashed anew.
 */
export async function binaryInfo(): Promise<BinaryInfo | null> {
  if (!isCompiledBinary()) return null;
  const path = process.execPath;
  const st = await stat(path);
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  if (hashed?.key !== key) {
    // Shared by concurrent first requests; forgotten on failure so the next request tries again.
    const info = sha256File(path).then((sha256) => ({ path, sha256, size: st.size }));
    const entry = { key, info };
    info.catch(() => {
      if (hashed === entry) hashed = undefined;
    });
    hashed = entry;
  }
  return hashed.info;
}

/** Why this head cannot hand out its binary, or undefined when it can. */
function unavailable(): string | undefined {
  if (!isCompiledBinary()) {
    return "downloads need the compiled binary: this head runs from source; build it with `make build` and run dist/vigil serve";
  }
  if (process.platform !== "linux" || process.arch !== "x64") {
    return `this head runs on ${process.platform}-${process.arch} and can only hand out its own binary, not ${BINARY_NAME}`;
  }
  return undefined;
}

export function installRoutes(ctx: HeadContext) {
  return new Elysia({ name: "install" })
    .use(guard(ctx))
    .get(
      "/install.sh",
      ({ client, request }) => {
        let origin = ctx.config.publicUrl;
        if (!origin) {
          // No Host header at all (HTTP/1.0, or app.handle in tests): the URL the request was built with.
          const host = validHost(client.host ?? new URL(request.url).host);
          if (!host) {
            return new Response(
              "refused: the Host header is not a plain hostname[:port]; ask for http://HEAD:8480/install.sh, or set VIGIL_PUBLIC_URL on the head\n",
              { status: 400, headers: { "content-type": "text/plain; charset=utf-8" } },
            );
          }
          origin = `${client.secure ? "https" : "http"}://${host}`;
        }
        return new Response(renderInstallScript(origin), {
          headers: { "content-type": "text/x-shellscript; charset=utf-8", "cache-control": "no-store" },
        });
      },
      { access: "public", detail: hidden() },
    )
    .get(
      DOWNLOAD_PATH,
      async () => {
        const why = unavailable();
        if (why) return Response.json({ error: why }, { status: 404 });
        const info = (await binaryInfo())!;
        return new Response(Bun.file(info.path), {
          headers: {
            "content-type": "application/octet-stream",
            "content-length": String(info.size),
            "content-disposition": `attachment; filename="${BINARY_NAME}"`,
            "cache-control": "no-cache",
            "x-vigil-sha256": info.sha256,
            "x-vigil-version": VERSION,
          },
        });
      },
      { access: "public", detail: hidden() },
    )
    .get(
      `${DOWNLOAD_PATH}.sha256`,
      async () => {
        const why = unavailable();
        if (why) return Response.json({ error: why }, { status: 404 });
        const info = (await binaryInfo())!;
        // The format sha256sum -c reads.
        return new Response(`${info.sha256}  ${BINARY_NAME}\n`, {
          headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-cache", "x-vigil-version": VERSION },
        });
      },
      { access: "public", detail: hidden() },
    );
}

// The Dockerfile, .dockerignore and docker-compose.yml, checked without a Docker engine: hadolint when it is installed, otherwise a parse of each.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../harness/process.ts";

const DOCKERFILE = readFileSync(join(REPO, "Dockerfile"), "utf8");
const DOCKERIGNORE = readFileSync(join(REPO, ".dockerignore"), "utf8");
const COMPOSE_TEXT = readFileSync(join(REPO, "docker-compose.yml"), "utf8");
const DOCS = readFileSync(join(REPO, "docs/containers.md"), "utf8");
const MAKEFILE = readFileSync(join(REPO, "Makefile"), "utf8");

/** Every instruction the Dockerfile reference knows (MAINTAINER is deprecated, so it is left out on purpose). */
const INSTRUCTIONS = new Set([
  "FROM",
  "RUN",
  "CMD",
  "LABEL",
  "EXPOSE",
  "ENV",
  "ADD",
  "COPY",
  "ENTRYPOINT",
  "VOLUME",
  "USER",
  "WORKDIR",
  "ARG",
  "ONBUILD",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "SHELL",
]);

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}
interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

/** Instructions in order, continuation lines joined and comments dropped, as the Dockerfile frontend reads them. */
function parseDockerfile(text: string): { preamble: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith("#")) return; // comments (and parser directives), also inside a continued instruction
    if (line === "" && !pending) return;
    const current = pending ?? { text: "", line: i + 1 };
    const continued = line.endsWith("\\");
    current.text += ` ${continued ? line.slice(0, -1) : line}`;
    if (continued) {
      pending = current;
      return;
    }
    pending = undefined;
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(current.text)!;
    instructions.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim().replace(/\s+/g, " "), line: current.line });
  });
  if (pending) throw new Error(`Dockerfile ends inside a continued instruction (line ${pending.line})`);
  const preamble: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: FROM ${ins.args}`);
      stages.push({ base: m[1]!, name: m[2] ?? String(stages.length), instructions: [] });
    } else if (stages.length === 0) {
      preamble.push(ins);
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return { preamble, stages };
}

const dockerfile = parseDockerfile(DOCKERFILE);
const stage = (name: string) => dockerfile.stages.find((s) => s.name === name);

/** A stage's instructions with those of the stages it is built FROM before them, as the image inherits them. */
function inherited(s: Stage): Instruction[] {
  const parent = stage(s.base);
  return [...(parent ? inherited(parent) : []), ...s.instructions];
}

/** The value an image ends up with for a single-valued instruction (the last one counts). */
function effective(s: Stage, keyword: string): string | undefined {
  return inherited(s)
    .filter((i) => i.keyword === keyword)
    .at(-1)?.args;
}

/** ENV settings of a stage and its parents, `KEY=value` pairs (quotes not used in this Dockerfile). */
function envOf(s: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of inherited(s).filter((i) => i.keyword === "ENV")) {
    for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S*)/g)) env[m[1]!] = m[2]!;
  }
  return env;
}

const finalStage = dockerfile.stages.at(-1)!;

describe("Dockerfile", () => {
  test.skipIf(Bun.which("hadolint") === null)("hadolint finds no error (skipped: hadolint is not packaged by Debian)", () => {
    const r = Bun.spawnSync(["hadolint", "--failure-threshold", "error", "Dockerfile"], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode, r.stdout.toString() + r.stderr.toString()).toBe(0);
  });

  test("uses only known instructions, ARG alone before the first FROM", () => {
    const all = [...dockerfile.preamble, ...dockerfile.stages.flatMap((s) => s.instructions)];
    expect(all.filter((i) => !INSTRUCTIONS.has(i.keyword)).map((i) => `${i.line}: ${i.keyword}`)).toEqual([]);
    expect(dockerfile.preamble.every((i) => i.keyword === "ARG")).toBe(true);
  });

  test("has named stages build, runtime, agent and head, each with its FROM, the head last (the default target)", () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(["build", "runtime", "agent", "head"]);
    expect(new Set(dockerfile.stages.map((s) => s.name)).size).toBe(dockerfile.stages.length);
    expect(finalStage.name).toBe("head");
    expect(stage("agent")!.base).toBe("runtime");
    expect(stage("head")!.base).toBe("runtime");
  });

  test("builds with the Bun the Makefile pins, through scripts/build.ts", () => {
    const pinned = /^BUN_VERSION\s*:=\s*(\S+)$/m.exec(MAKEFILE)![1];
    expect(dockerfile.preamble.map((i) => i.args)).toContain(`BUN_VERSION=${pinned}`);
    expect(stage("build")!.base).toBe("oven/bun:${BUN_VERSION}");
    const runs = stage("build")!
      .instructions.filter((i) => i.keyword === "RUN")
      .map((i) => i.args);
    expect(runs).toContain("bun install --frozen-lockfile");
    expect(runs.some((r) => r.startsWith("bun scripts/build.ts /out/vigil"))).toBe(true);
  });

  test("ships only the compiled binary from the build stage on a slim base", () => {
    expect(stage("runtime")!.base).toMatch(/^debian:\S*-slim$/);
    const copies = dockerfile.stages.slice(1).flatMap((s) => s.instructions.filter((i) => i.keyword === "COPY" || i.keyword === "ADD"));
    expect(copies.map((c) => c.args)).toEqual(["--from=build /out/vigil /usr/local/bin/vigil"]);
    // Every --from names an earlier stage.
    dockerfile.stages.forEach((s, index) => {
      for (const i of s.instructions) {
        const from = /--from=(\S+)/.exec(i.args)?.[1];
        if (from) expect(dockerfile.stages.slice(0, index).map((p) => p.name)).toContain(from);
      }
    });
  });

  test("runs as a non-root user in the images that ship", () => {
    for (const name of ["agent", "head"]) {
      const user = effective(stage(name)!, "USER");
      expect(user, name).toBeDefined();
      expect(["root", "0", "root:root", "0:0"]).not.toContain(user!);
    }
  });

  test("the head exposes 8480, listens there and checks /healthz on it", () => {
    const head = stage("head")!;
    expect(effective(head, "EXPOSE")).toBe("8480");
    expect(envOf(head).VIGIL_LISTEN).toBe("0.0.0.0:8480");
    expect(envOf(head).VIGIL_DATA_DIR).toBe("/var/lib/vigil");
    const check = effective(head, "HEALTHCHECK")!;
    expect(check).toMatch(/^--\S+.* CMD \[/);
    expect(JSON.parse(check.slice(check.indexOf("CMD ") + 4))).toContain("http://127.0.0.1:8480/healthz");
    expect(JSON.parse(effective(head, "CMD")!)).toEqual(["serve"]);
  });

  test("the agent has no health check of the head's, asks for NVML's driver files and runs `vigil agent`", () => {
    const agent = stage("agent")!;
    expect(effective(agent, "HEALTHCHECK")).toBeUndefined();
    expect(envOf(agent).NVIDIA_DRIVER_CAPABILITIES).toContain("utility");
    expect(envOf(agent).VIGIL_AGENT_DIR).toBe("/var/lib/vigil-agent");
    expect(JSON.parse(effective(agent, "CMD")!)).toEqual(["agent"]);
  });

  test("starts the binary under an init, in exec form (signals reach vigil)", () => {
    expect(JSON.parse(effective(finalStage, "ENTRYPOINT")!)).toEqual(["/usr/bin/tini", "--", "/usr/local/bin/vigil"]);
  });
});

describe(".dockerignore", () => {
  const patterns = DOCKERIGNORE.split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const ignored = (path: string) =>
    patterns.some((p) => (p.includes("*") ? new Bun.Glob(p).match(path) : path === p || path.startsWith(`${p}/`)));

  test("leaves out installed dependencies, builds, tools and data", () => {
    for (const path of ["node_modules", "dist", ".tools", "vigil-data", ".env"]) expect(ignored(path), path).toBe(true);
  });

  test("keeps everything the build reads, and .git for the commit stamp", () => {
    for (const path of [
      "package.json",
      "bun.lock",
      "bunfig.toml",
      "src/main.ts",
      "scripts/build.ts",
      "migrations",
      "static",
      "views",
      "agent",
      ".git",
    ]) {
      expect(ignored(path), path).toBe(false);
    }
  });
});

describe("docker-compose.yml", () => {
  // Bun's own YAML parser (Bun.YAML, since 1.2.21): no dependency needed.
  const compose = Bun.YAML.parse(COMPOSE_TEXT) as any;
  const services = compose.services as Record<string, any>;

  test("has the head, with PostgreSQL and nginx only under their profiles", () => {
    expect(Object.keys(services).sort()).toEqual(["head", "nginx", "postgres"]);
    expect(services.head.profiles).toBeUndefined();
    expect(services.postgres.profiles).toEqual(["postgres"]);
    expect(services.nginx.profiles).toEqual(["nginx"]);
  });

  test("builds the head from the Dockerfile's head stage and publishes 8480", () => {
    expect(services.head.build).toEqual({ context: ".", target: "head" });
    expect(stage(services.head.build.target)).toBeDefined();
    expect(services.head.ports).toHaveLength(1);
    expect(services.head.ports[0]).toMatch(/:8480$/);
  });

  test("keeps the head's data directory in a named volume", () => {
    const dataDir = services.head.environment.VIGIL_DATA_DIR;
    expect(dataDir).toBe(envOf(stage("head")!).VIGIL_DATA_DIR);
    const mount = (services.head.volumes as string[]).find((v) => v.split(":")[1] === dataDir);
    expect(mount).toBeDefined();
    expect(Object.keys(compose.volumes)).toContain(mount!.split(":")[0]!);
  });

  test("checks the head's health on /healthz", () => {
    expect(services.head.healthcheck.test).toContain("http://127.0.0.1:8480/healthz");
    expect(services.head.healthcheck.test[0]).toBe("CMD");
  });

  test("gives the head DATABASE_URL for PostgreSQL, and waits for it only when the profile is on", () => {
    expect(services.head.environment.DATABASE_URL).toBe("${DATABASE_URL:-}");
    expect(services.head.depends_on.postgres).toEqual({ condition: "service_healthy", required: false });
    // The URL the docs and the comment tell people to set reaches this postgres service as its user and database.
    const pg = services.postgres.environment;
    for (const text of [DOCS, COMPOSE_TEXT]) {
      const m = /DATABASE_URL=postgres:\/\/([^:]+):[^@]+@postgres:5432\/(\w+)/.exec(text);
      expect(m).not.toBeNull();
      expect([m![1], m![2]]).toEqual([pg.POSTGRES_USER, pg.POSTGRES_DB]);
    }
    expect(services.postgres.volumes).toContain("postgres-data:/var/lib/postgresql/data");
    expect(services.postgres.healthcheck.test).toContain("pg_isready");
  });

  test("puts nginx in front with deploy/nginx/vigil.conf, at the one address the head trusts", () => {
    expect(services.nginx.volumes).toContain("./deploy/nginx/vigil.conf:/etc/nginx/conf.d/default.conf:ro");
    const address = services.nginx.networks.vigil.ipv4_address as string;
    expect(services.head.environment.VIGIL_TRUSTED_PROXIES).toBe(address);
    const { subnet, ip_range: range } = compose.networks.vigil.ipam.config[0];
    const inCidr = (ip: string, cidr: string) => {
      const [base, bits] = cidr.split("/");
      const n = (a: string) => a.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
      const size = 2 ** (32 - Number(bits));
      return Math.floor(n(ip) / size) === Math.floor(n(base!) / size);
    };
    // Inside the network, outside the range Docker hands out, so no other container can ever hold it.
    expect(inCidr(address, subnet)).toBe(true);
    expect(inCidr(address, range)).toBe(false);
  });

  test("uses only ${VAR} and ${VAR:-default}, so a profile left off needs none of its settings", () => {
    const refs = [...COMPOSE_TEXT.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((r) => !/^[A-Z_][A-Z0-9_]*(:-[^}]*)?$/.test(r))).toEqual([]);
  });
});

describe("docs/containers.md", () => {
  test("covers building, --gpus all, compose, and says the files were not run here", () => {
    expect(DOCS).toContain("docker build");
    expect(DOCS).toContain("--target agent");
    expect(DOCS).toContain("--gpus all");
    expect(DOCS).toContain("NVIDIA Container Toolkit");
    expect(DOCS).toContain("docker compose --profile postgres");
    expect(DOCS).toMatch(/no Docker engine/);
  });
});

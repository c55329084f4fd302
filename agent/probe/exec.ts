// Runs a tool a probe needs (systemctl, journalctl) with an argv array, never a shell: bounded in time and in output.
import { errorText, seconds } from "./context.ts";

export interface ToolOutput {
  code: number;
  stdout: string;
  /** The first non-empty line of stderr, or null. */
  stderrLine: string | null;
  /** stdout went past maxBytes and was cut there. */
  cut: boolean;
}

export class ToolFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolFailed";
  }
}

/** Reads a stream up to `max` bytes, then stops reading (the caller kills the child). */
async function readBounded(stream: ReadableStream<Uint8Array>, max: number): Promise<{ bytes: Uint8Array; cut: boolean }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: Buffer.concat(chunks), cut: false };
      if (size + value.length > max) {
        chunks.push(value.subarray(0, max - size));
        return { bytes: Buffer.concat(chunks), cut: true };
      }
      chunks.push(value);
      size += value.length;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Runs `argv` and gives its exit code and output. Killed (and a ToolFailed thrown) after `timeoutMs`;
 * stdout beyond `maxBytes` is not read. `env` is added to the agent's environment as it is now.
 */
export async function runTool(
  argv: string[],
  opts: { timeoutMs: number; maxBytes?: number; env?: Record<string, string> },
): Promise<ToolOutput> {
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...opts.env } });
  } catch (err) {
    throw new ToolFailed(`could not run ${argv[0]}: ${errorText(err)}`);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Answered at the deadline even if a grandchild still holds the pipes open (killing the child does not close them).
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new ToolFailed(`${argv[0]} did not finish within ${seconds(opts.timeoutMs)} and was killed`));
    }, opts.timeoutMs);
  });
  const work = (async (): Promise<ToolOutput> => {
    const stderr = readBounded(proc.stderr, 64 * 1024);
    const out = await readBounded(proc.stdout, maxBytes);
    if (out.cut) proc.kill("SIGKILL");
    const code = await proc.exited;
    // A grandchild that kept stderr open must not hold the answer back: a second after the exit is enough.
    let wait: ReturnType<typeof setTimeout> | undefined;
    const gone = new Promise<{ bytes: Uint8Array }>((done) => (wait = setTimeout(() => done({ bytes: new Uint8Array() }), 1000)));
    const err = new TextDecoder().decode((await Promise.race([stderr, gone]).finally(() => clearTimeout(wait))).bytes);
    const stderrLine =
      err
        .split("\n")
        .find((l) => l.trim() !== "")
        ?.trim() ?? null;
    return { code: out.cut ? 0 : code, stdout: new TextDecoder().decode(out.bytes), stderrLine, cut: out.cut };
  })();
  work.catch(() => {}); // settled after the deadline: nobody is listening any more
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

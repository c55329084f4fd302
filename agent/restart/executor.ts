// Carries out the head's restart commands on this worker: allow-list, wait for the unit's GPU jobs to end, then systemctl restart.
import { log as rootLog, type Logger } from "../../src/log.ts";
import type { RestartCommand, RestartState } from "../../src/protocol/messages.ts";
import { restartRefusal, unitNameProblem } from "./allowlist.ts";
import { unitPids } from "./cgroup.ts";

/**
 * One step of a restart as the agent reports it (the restart-status message without its type).
 *
 * The agent's sequence, after the head has recorded "initiated" on sending the command (the agent
 * does not repeat it):
 *   refused                                             not allowed, invalid, or already in progress
 *   [waiting ...] restarting (completed | failed)       "waiting" again each time the count changes
 *   [waiting ...] failed                                the GPU processes outlived waitSeconds
 * "stopping" is never sent: one `systemctl restart` stops and starts the unit, and the agent cannot
 * see the boundary between the two.
 */
export interface RestartStatus {
  id: number;
  state: RestartState;
  message?: string;
  /** ISO 8601 time the step was reached. */
  at: string;
}

export interface RestartExecutorOptions {
  /** Units this agent may restart, exactly as written (see parseAllowList). */
  allow: readonly string[];
  /** Path of systemctl; "systemctl" is looked up on PATH. */
  systemctl?: string;
  /**
   * How the agent gets the right to restart (VIGIL_RESTART_VIA, written by the installer): "polkit" or
   * "direct" run systemctl as is; "sudo" runs `sudo -n systemctl ...`, which the installer's sudoers
   * entry allows for exactly the listed units (hosts whose polkit cannot check unit and verb).
   */
  via?: "direct" | "polkit" | "sudo";
  procRoot?: string;
  /** Pids using a GPU now, from the latest sample. */
  gpuPids: () => Promise<number[]>;
  /** How long `systemctl restart` may take before it is killed (default 60 s). */
  restartTimeoutMs?: number;
  /** How often the unit's GPU processes are counted again while waiting (default 1 s). */
  pollMs?: number;
  /** Upper bound on a command's waitSeconds (default 24 h), so no command holds a unit for ever. */
  maxWaitSeconds?: number;
  now?: () => number;
  log?: Pick<Logger, "info" | "warn" | "error">;
}

/** RestartStatusMessage.message holds at most 2000 characters. */
const MESSAGE_MAX = 2000;
/** Pids named in a message; a unit with more GPU processes than this is rare, and the count says it. */
const PIDS_SHOWN = 20;

function clip(message: string): string {
  return message.length <= MESSAGE_MAX ? message : `${message.slice(0, MESSAGE_MAX - 1)}…`;
}

function gpuProcesses(n: number): string {
  return n === 1 ? "1 GPU process" : `${n} GPU processes`;
}

function pidList(pids: readonly number[]): string {
  const shown = pids.slice(0, PIDS_SHOWN).join(", ");
  return pids.length > PIDS_SHOWN ? `${shown}, …` : shown;
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

type Send = (state: RestartState, message?: string) => void;

export class RestartExecutor {
  private readonly allow: readonly string[];
  private readonly systemctl: string;
  private readonly via: "direct" | "polkit" | "sudo";
  private readonly procRoot: string;
  private readonly gpuPids: () => Promise<number[]>;
  private readonly restartTimeoutMs: number;
  private readonly pollMs: number;
  private readonly maxWaitSeconds: number;
  private readonly now: () => number;
  private readonly log: Pick<Logger, "info" | "warn" | "error">;
  /** Units with a restart under way, from acceptance to the last status. */
  private readonly inProgress = new Set<string>();
  private readonly stopped = new AbortController();

  constructor(opts: RestartExecutorOptions) {
    // The list is meant to come through parseAllowList; checked again because an invalid entry here
    // would be a unit name that reaches systemctl without ever having been validated.
    for (const unit of opts.allow) {
      const problem = unitNameProblem(unit);
      if (problem) throw new Error(`restart allow-list: ${JSON.stringify(unit)} is not a valid unit name: ${problem}`);
    }
    this.allow = [...opts.allow];
    this.systemctl = opts.systemctl ?? "systemctl";
    this.via = opts.via ?? "direct";
    this.procRoot = opts.procRoot ?? "/proc";
    this.gpuPids = opts.gpuPids;
    this.restartTimeoutMs = opts.restartTimeoutMs ?? 60_000;
    this.pollMs = opts.pollMs ?? 1000;
    this.maxWaitSeconds = opts.maxWaitSeconds ?? 24 * 3600;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? rootLog.child({ component: "restart" });
  }

  /**
   * Carries out one command, calling `report` for every step; resolves after the last one and never
   * rejects (whatever goes wrong becomes a "failed" status).
   */
  async run(cmd: RestartCommand, report: (status: RestartStatus) => void): Promise<void> {
    const unit = cmd.service;
    const send: Send = (state, message) => {
      const status: RestartStatus = { id: cmd.id, state, at: new Date(this.now()).toISOString() };
      if (message !== undefined) status.message = clip(message);
      try {
        report(status);
      } catch (err) {
        // The restart goes on: the head learns the outcome from the later statuses, or not at all if
        // the connection is gone, but a half-done restart would be worse.
        this.log.warn("could not send a restart status", { id: cmd.id, state, error: err });
      }
    };

    // Decided and marked in progress without an await in between, so two commands for one unit that
    // arrive together cannot both pass.
    const refusal = this.stopped.signal.aborted
      ? "the agent is shutting down"
      : (restartRefusal(unit, this.allow) ?? (this.inProgress.has(unit) ? `a restart of ${unit} is already in progress` : null));
    if (refusal !== null) {
      this.log.warn("restart refused", { id: cmd.id, service: unit, reason: refusal });
      send("refused", refusal);
      return;
    }

    this.inProgress.add(unit);
    try {
      if (!cmd.force && !(await this.waitForGpuJobs(cmd, unit, send))) return;
      await this.restart(cmd.id, unit, send);
    } catch (err) {
      this.log.error("restart failed unexpectedly", { id: cmd.id, service: unit, error: err });
      send("failed", `internal error: ${errorText(err)}`);
    } finally {
      this.inProgress.delete(unit);
    }
  }

  /** Stops waiting restarts (they report failed); a restart already handed to systemctl runs on. */
  close(): void {
    this.stopped.abort();
  }

  /** True when the unit has no GPU processes left; false after reporting why the restart will not happen. */
  private async waitForGpuJobs(cmd: RestartCommand, unit: string, send: Send): Promise<boolean> {
    const waitSeconds = Math.min(Math.max(0, Number.isFinite(cmd.waitSeconds) ? cmd.waitSeconds : 0), this.maxWaitSeconds);
    const deadline = this.now() + waitSeconds * 1000;
    let reported = -1;
    for (;;) {
      let pids: number[];
      try {
        pids = await unitPids(this.procRoot, await this.gpuPids(), unit);
      } catch (err) {
        // Not knowing is not "none": restarting blind could kill the job this wait protects.
        const message = `could not tell which GPU processes belong to ${unit}: ${errorText(err)}`;
        this.log.error("restart not done", { id: cmd.id, service: unit, reason: message });
        send("failed", message);
        return false;
      }
      if (pids.length === 0) return true;
      if (this.now() >= deadline) {
        const message = `gave up after ${waitSeconds}s: ${gpuProcesses(pids.length)} still running (pids ${pidList(pids)})`;
        this.log.warn("restart not done", { id: cmd.id, service: unit, reason: message });
        send("failed", message);
        return false;
      }
      if (pids.length !== reported) {
        reported = pids.length;
        send("waiting", `waiting for ${gpuProcesses(pids.length)} of ${unit} to end (pids ${pidList(pids)})`);
      }
      if (!(await this.sleep(Math.min(this.pollMs, Math.max(0, deadline - this.now()))))) {
        send("failed", `the agent stopped while waiting for ${gpuProcesses(pids.length)} of ${unit}`);
        return false;
      }
    }
  }

  /** Resolves true after `ms`, false at once when the executor is closed. */
  private sleep(ms: number): Promise<boolean> {
    const signal = this.stopped.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  private async restart(id: number, unit: string, send: Send): Promise<void> {
    // An argv array, never a shell. The unit is valid and cannot start with "-", so "--" is not
    // needed to keep it from being read as an option; it is there anyway, so that this holds even if
    // the validation ever had a hole (systemctl's own man page uses "--" for "-.mount").
    const argv = [...(this.via === "sudo" ? ["sudo", "-n"] : []), this.systemctl, "restart", "--", unit];
    send("restarting", `systemctl restart ${unit}`);
    this.log.info("restarting", { id, service: unit });
    const started = performance.now();

    let proc: Bun.Subprocess<"ignore", "ignore", "pipe">;
    try {
      // env as it is now, like node:child_process; Bun's default is the environment at start-up.
      proc = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: process.env });
    } catch (err) {
      const message = `could not run ${this.systemctl}: ${errorText(err)}`;
      this.log.error("restart failed", { id, service: unit, reason: message });
      send("failed", message);
      return;
    }

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill("SIGKILL");
    }, this.restartTimeoutMs);
    const stderr = new Response(proc.stderr).text();
    let code: number;
    try {
      code = await proc.exited;
    } finally {
      clearTimeout(timer);
    }
    const elapsed = performance.now() - started;

    if (timedOut) {
      // Killing systemctl does not cancel the job it queued in systemd: say so, the operator may look.
      const message = `systemctl restart ${unit} did not finish within ${seconds(this.restartTimeoutMs)} and was killed; systemd may still be running the job`;
      this.log.error("restart failed", { id, service: unit, reason: message });
      send("failed", message);
      return;
    }
    if (code === 0) {
      this.log.info("restart completed", { id, service: unit, seconds: Number((elapsed / 1000).toFixed(1)) });
      send("completed", `restarted in ${seconds(elapsed)}`);
      return;
    }
    const line = await firstLine(stderr);
    const message =
      proc.signalCode !== null
        ? `systemctl was killed by ${proc.signalCode}`
        : line !== null
          ? `systemctl exited with ${code}: ${line}`
          : `systemctl exited with ${code} and printed nothing`;
    this.log.error("restart failed", { id, service: unit, reason: message });
    send("failed", message);
  }
}

/**
 * The first non-empty line of a child's stderr, waiting at most a second after its exit: a grandchild
 * that kept the pipe open must not hold the status back.
 */
async function firstLine(text: Promise<string>): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(""), 1000)));
  try {
    const all = await Promise.race([text, late]);
    return (
      all
        .split("\n")
        .find((l) => l.trim() !== "")
        ?.trim() ?? null
    );
  } finally {
    clearTimeout(timer);
  }
}

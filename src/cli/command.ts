// What every subcommand of `vigil` provides: its name, one-line summary, usage text and run function.
import type { Config } from "../config.ts";

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Settings this command accepts, in --help order. */
  settings: readonly (keyof Config)[];
  /** Longer explanation printed under the options in --help. */
  details?: string;
  /** Returns the process exit code. */
  run(argv: string[]): Promise<number>;
}

// `vigil version`: print the version, build commit and Bun runtime.
import { VERSION_STRING } from "../version.ts";
import type { Command } from "./command.ts";

export const versionCommand: Command = {
  name: "version",
  summary: "print the version",
  usage: "vigil version",
  settings: [],
  async run() {
    console.log(VERSION_STRING);
    return 0;
  },
};

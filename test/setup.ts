// Preloaded by bun test (bunfig.toml): quiet logs unless VIGIL_TEST_LOG is set, so test output stays readable.
import { setLogLevel } from "../src/log.ts";

if (!process.env.VIGIL_TEST_LOG) setLogLevel("error");

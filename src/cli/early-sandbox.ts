/**
 * Imported first by main.ts: a command that will run a script starts its sandbox process
 * (S06) while the rest of the CLI loads, so the run does not wait for it.
 */
import { prestartSandbox } from "../sandbox/start.js";

const argv = process.argv.slice(2);
const RUNS = new Set(["run", "resume", "fork"]);
if (RUNS.has(argv[0] ?? "") && !argv.some((a) => a === "--detach" || a === "--help" || a === "-h"))
  prestartSandbox();

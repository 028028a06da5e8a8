/**
 * A stand-in agent CLI for unit tests of what a driver starts: a node program, given to a driver as
 * its `bin`, that records its argv, stdin and the environment variables a test asks for into a
 * JSON file, then exits without an answer. The driver builds and spawns the real command line; the
 * test reads back exactly what the CLI would have received.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCliDriver } from "../../src/drivers/registry.js";
import type { AgentTask, Driver } from "../../src/drivers/types.js";
import { turn } from "./conformance.js";

export interface Captured {
  argv: string[];
  stdin: string;
  env: Record<string, string | undefined>;
}

export interface CaptureKit {
  root: string;
  /** A driver of that name whose CLI is the capturing program; `env` is its driver setting. */
  driver(name: string, env?: Record<string, string>): Driver;
  task(overrides?: Partial<AgentTask>): AgentTask;
  /** Runs the task and returns what the CLI received. */
  capture(driver: Driver, task: AgentTask): Promise<Captured>;
}

let counter = 0;

export function captureKit(envNames: string[]): CaptureKit {
  const root = mkdtempSync(join(tmpdir(), "weft-capture-"));
  const bin = join(root, "fake-cli.mjs");
  writeFileSync(
    bin,
    `#!${process.execPath}
import fs from "node:fs";
const names = ${JSON.stringify(envNames)};
let stdin = "";
try { stdin = fs.readFileSync(0, "utf8"); } catch {}
const env = Object.fromEntries(names.map((n) => [n, process.env[n]]));
fs.writeFileSync(process.env.CAPTURE_FILE, JSON.stringify({ argv: process.argv.slice(2), stdin, env }));
`,
  );
  chmodSync(bin, 0o755);
  return {
    root,
    driver: (name, env = {}) => createCliDriver(name, { bin, env, killGraceMs: 1000 }),
    task: (overrides = {}) => {
      const index = ++counter;
      const runDir = join(root, `run-${index}`);
      mkdirSync(runDir, { recursive: true });
      return {
        runId: "capture",
        index,
        attempt: 1,
        prompt: "PREAMBLE\n\nhello",
        userPrompt: "hello",
        permissions: "edit",
        cwd: root,
        runDir,
        transcriptPath: join(runDir, "transcripts", `${index}.jsonl`),
        env: { CAPTURE_FILE: join(runDir, "captured.json") },
        ...overrides,
      };
    },
    capture: async (driver, task) => {
      await turn(driver, task);
      const file = task.env?.CAPTURE_FILE;
      if (!file) throw new Error("capture: the task has no CAPTURE_FILE");
      return JSON.parse(readFileSync(file, "utf8")) as Captured;
    },
  };
}

/** The value of `--flag value` or `--flag=value` in argv (the last one, as the CLIs take it). */
export function flag(argv: string[], name: string): string | undefined {
  let value: string | undefined;
  argv.forEach((a, i) => {
    if (a === name) value = argv[i + 1];
    else if (a.startsWith(`${name}=`)) value = a.slice(name.length + 1);
  });
  return value;
}

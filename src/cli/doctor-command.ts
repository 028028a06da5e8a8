/**
 * `weft doctor` (D03): which agent CLIs this machine has, their versions, which driver a run
 * would use and why, and what is missing. Exit code 0 when a run could start (a driver is chosen
 * and its program found, or a command set for the command driver), 1 when not.
 */
import { execFile } from "node:child_process";
import { cpus } from "node:os";
import { UsageError } from "../api/errors.js";
import { resolveSettings } from "../config/settings.js";
import { cliVersion, findExecutable } from "../drivers/detect.js";
import { CLI_DRIVERS, CLI_PACKAGES, chooseDriverName, driverBin } from "../drivers/registry.js";
import { forTerminal } from "../report/terminal-text.js";
import { VERSION } from "../version.js";

interface CliRow {
  driver: string;
  bin: string;
  path?: string;
  version?: string;
  error?: string;
  install: string;
}

export interface DoctorReport {
  weft: string;
  node: string;
  platform: string;
  clis: CliRow[];
  /** The driver `weft run` would use, and why; or why none. */
  driver?: string;
  driverWhy?: string;
  /** The command driver's command, when one is set, and where it came from. */
  command?: { value: string; from: string };
  /** Whether a run could start now: a driver is chosen and its program is there. */
  usable: boolean;
  problem?: string;
  git?: string;
}

export async function doctorReport(cwd = process.cwd(), env = process.env): Promise<DoctorReport> {
  let settings: ReturnType<typeof resolveSettings>;
  try {
    settings = resolveSettings({ cwd, env, cpus: cpus().length });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const s = settings.settings;
  const clis = await Promise.all(
    Object.keys(CLI_DRIVERS).map(async (driver): Promise<CliRow> => {
      const bin = driverBin(driver, s);
      const row: CliRow = { driver, bin, install: `npm install -g ${CLI_PACKAGES[driver]}` };
      row.path = findExecutable(bin, env, cwd);
      if (row.path) Object.assign(row, await cliVersion(row.path, env));
      return row;
    }),
  );
  const report: DoctorReport = {
    weft: VERSION,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    clis,
    usable: false,
  };
  const src = settings.sources;
  if (s.command) report.command = { value: s.command, from: src.command.where };
  try {
    report.driver = chooseDriverName(s, env);
    report.driverWhy = s.driver
      ? `setting driver, from ${src.driver.where}`
      : s.command
        ? `setting command, from ${src.command.where}`
        : "the first agent CLI found on PATH";
  } catch (e) {
    // This is doctor's own report: no "run weft doctor" in it.
    report.problem = (e as Error).message.replace(/\s*`weft doctor`[^.]*\./, "");
  }
  // A named driver is not yet a run that can start: its program must be there (or, for the
  // command driver, a command set).
  const d = report.driver;
  if (d === "command") {
    report.usable = report.command !== undefined;
    if (!report.usable) {
      report.problem =
        'the command driver needs a command: set --command "<program>", WEFT_COMMAND, or "command" in .weft/config.json';
    }
  } else if (d !== undefined) {
    const row = clis.find((c) => c.driver === d);
    report.usable = row?.path !== undefined;
    if (!row) report.problem = `unknown driver "${d}"`;
    else if (!row.path) report.problem = `${row.bin} is not on PATH; install with \`${row.install}\``;
  }
  report.git = await new Promise((done) =>
    execFile("git", ["--version"], { env }, (err, out) => done(err ? undefined : `${out}`.trim())),
  );
  return report;
}

export async function doctorCommand(flags: { json?: boolean }): Promise<number> {
  const r = await doctorReport();
  const usable = r.usable;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return usable ? 0 : 1;
  }
  const out: string[] = [`weft ${r.weft} on Node ${r.node} (${r.platform})`, "", "Agent CLIs:"];
  const w = Math.max(...r.clis.map((c) => c.driver.length));
  for (const c of r.clis) {
    const name = c.driver.padEnd(w);
    if (!c.path) out.push(`  ${name}  missing: ${c.bin} is not on PATH; install with \`${c.install}\``);
    else if (c.error) out.push(`  ${name}  ${c.path}: found, but \`--version\` failed: ${c.error}`);
    else out.push(`  ${name}  ${c.version}  (${c.path})`);
  }
  out.push(
    r.command
      ? `  ${"command".padEnd(w)}  set to \`${r.command.value}\` (from ${r.command.from})`
      : `  ${"command".padEnd(w)}  not set: --command "<program>" runs any program that reads the prompt on stdin`,
    "",
  );
  if (r.driver && r.usable) out.push(`Runs use: ${r.driver} (${r.driverWhy})`);
  else if (r.driver) out.push(`Runs would use: ${r.driver} (${r.driverWhy}), but cannot start: ${r.problem}`);
  else out.push(`Runs use: nothing yet. ${r.problem}`);
  out.push(
    r.git ? `git: ${r.git} (for isolation: "worktree")` : 'git: not found (needed for isolation: "worktree")',
  );
  // C09: versions and errors are the agent CLIs' own output.
  process.stdout.write(`${forTerminal(out.join("\n"))}\n`);
  return usable ? 0 : 1;
}

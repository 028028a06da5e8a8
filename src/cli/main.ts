#!/usr/bin/env node
// Commands with heavy dependencies (the MCP SDK, the plan parser) are imported when used, so
// every other command starts without paying for them.
/** The `weft` command: a thin layer over the library (U01, U10). */
// First: it starts the sandbox process while the modules below load.
import "./early-sandbox.js";
import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { UsageError } from "../api/errors.js";
import { startResume, startWorkflow } from "../api/run-workflow.js";
import { VERSION } from "../version.js";
import { resolveScriptArg } from "../workflows/lookup.js";
import { cleanAllCommand } from "./clean-all.js";
import { configCommand } from "./config-command.js";
import {
  attachCommand,
  logsCommand,
  pauseCommand,
  restartCommand,
  statusCommand,
  stopCommand,
} from "./control-commands.js";
import { detachedArgs, detachedChildReporter, startDetached } from "./detach.js";
import { doctorCommand } from "./doctor-command.js";
import { reportError } from "./errors.js";
import { collectRepeated, type ForkFlags, forkCommand } from "./fork-command.js";
import { answerCommand, interactiveReporter, promptsAllowed } from "./gate-commands.js";
import { cleanCommand, lsCommand, showCommand } from "./inspect-commands.js";
import { guardOutputStreams } from "./output.js";
import type { PlanFlags } from "./plan-command.js";
import { driveRun, parseArgsFlag, type RunFlags, settingsFromFlags } from "./run-command.js";
import { type UiFlags, uiCommand } from "./ui-command.js";
import { type WorkerFlags, workerCommand } from "./worker-command.js";
import { listWorkflowsCommand, saveCommand } from "./workflow-commands.js";

const DETACH_HELP =
  "run in a background process of its own: print the run id once it has started and return (see weft status, logs, attach, stop)";

function settingOptions(cmd: Command): Command {
  return cmd
    .option("--args <json>", "the run's input, as JSON (the script's `args`)")
    .option(
      "--driver <name>",
      "backend for agents: codex, claude, pi, opencode, gemini or command (default: the first CLI found on PATH)",
    )
    .option("--command <cmd>", "program run by `sh -c` for each agent (selects the command driver)")
    .option("--concurrency <n>", "agents running at once (default min(16, max(4, cpus)))")
    .option("--budget <tokens>", "budget of generated tokens (output + reasoning) for this execution")
    .option("--max-agents <n>", "agents started per execution (default 1000)")
    .option("--max-cost <usd>", "cost limit in US dollars (the same as --max-cost-usd)")
    .option("--max-cost-usd <usd>", "cost limit in US dollars")
    .option("--max-list-items <n>", "largest list for parallel/pipeline (default 4096)")
    .option(
      "--repairs <n>",
      "schema repairs per agent after the first answer (default 4, so 5 attempts; MAX_STRUCTURED_OUTPUT_RETRIES sets attempts)",
    )
    .option("--retries <n>", "retries of a failed agent (command driver default 0)")
    .option(
      "--script-time-ms <ms>",
      "limit for one slice of synchronous script work (default 30000, as Claude Code)",
    )
    .option(
      "--idle-timeout-ms <ms>",
      "restart an agent silent this long, up to 5 times (default 600000; stallMs per call)",
    )
    .option("--kill-grace-ms <ms>", "time between SIGTERM and SIGKILL when stopping an agent (default 5000)")
    .option(
      "--verify-repairs <n>",
      "times a worktree agent gets a failing verify's output to fix (default 2)",
    )
    .option("--verify-timeout-ms <ms>", "limit for one verify command (default 600000)")
    .option("--hook-timeout-ms <ms>", "limit for one hook command (default 60000; see hooks)")
    .option(
      "--prefix-stagger-ms <ms>",
      "agents sending the same long prompt prefix wait this long at most for the first to warm the prompt cache (default 5000; 0: off)",
    )
    .option(
      "--integrate",
      "apply finished worktree agents' patches to the working tree when the run completes",
    )
    .option(
      "--otel <endpoint>",
      'export the run as an OpenTelemetry trace to this OTLP/HTTP endpoint ("off": none; default OTEL_EXPORTER_OTLP_ENDPOINT)',
    )
    .option(
      "--resume-mode <mode>",
      'which cached answers a resume serves: "writers" (default: matching calls, unless a writer before them ran again) or "prefix" (the calls before the first miss)',
    )
    .option(
      "--wait-for-usage-reset",
      "on a usage limit that resets within 24 h, wait for the reset and go on instead of pausing",
    )
    .option("--queue <url>", "send agent calls to workers on this Redis (see weft worker)")
    .option("--queue-name <name>", "the queue's name (default weft-agents)")
    .option("--repo <repo>", "what workers clone (default: the origin remote, else this repository)")
    .option("--json", "print one JSON event per line on stdout");
}

async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command()
    .name("weft")
    .description("Run dynamic workflows of coding agents: durable, resumable, backend-neutral.")
    .version(VERSION)
    .showHelpAfterError()
    .addHelpText("after", "\nA <run> is a run id, a prefix of one, or `last` (the newest run).")
    .exitOverride();

  settingOptions(
    program
      .command("run <script>")
      .description("run a workflow script (.js or .ts), or a saved workflow by name (see list-workflows)")
      .option("--resume <run>", "continue this run with the (edited) script; finished agents are reused")
      .option("--detach", DETACH_HELP),
  ).action(async (script: string, flags: RunFlags & { detach?: boolean }) => {
    if (flags.detach) {
      code = await startDetached(detachedArgs(), { resume: flags.resume });
      return;
    }
    code = await driveRun(
      async () =>
        startWorkflow({
          script: await resolveScriptArg(script, process.cwd(), process.env),
          args: parseArgsFlag(flags.args),
          settings: settingsFromFlags(flags),
          reporter: detachedChildReporter(interactiveReporter(flags)),
          // A14: checkpoint() waits only where this terminal's prompt can answer it.
          interactive: promptsAllowed(flags.json),
          resume: flags.resume,
        }),
      flags,
    );
  });

  settingOptions(
    program
      .command("resume <run>")
      .description("resume a stopped, failed or crashed run; finished agents are reused")
      .option("--detach", DETACH_HELP),
  ).action(async (runId: string, flags: RunFlags & { detach?: boolean }) => {
    if (flags.detach) {
      code = await startDetached(detachedArgs(), { resume: runId });
      return;
    }
    code = await driveRun(
      () =>
        startResume(runId, {
          args: parseArgsFlag(flags.args),
          settings: settingsFromFlags(flags),
          reporter: interactiveReporter(flags),
          interactive: promptsAllowed(flags.json),
        }),
      flags,
    );
  });

  settingOptions(
    program
      .command("fork <run>")
      .description(
        "start a new run of a run's script, args and settings that reuses its finished agents: those before --from, or all but --rerun",
      )
      .option(
        "--from <agent>",
        "reuse the finished agents numbered below this one (number or label); the rest run again",
      )
      .option(
        "--rerun <agent>",
        "run this agent again (number or label; repeatable); reuse every other finished agent",
        collectRepeated,
      )
      .option("--detach", DETACH_HELP),
  ).action(async (runId: string, flags: ForkFlags & { detach?: boolean }) => {
    if (flags.detach) {
      code = await startDetached(detachedArgs());
      return;
    }
    code = await forkCommand(runId, flags);
  });

  for (const type of ["approve", "reject"] as const) {
    program
      .command(`${type} <run> [gate]`)
      .description(
        `${type} the gate a run waits at (gate: its number or title; none: the one waiting); works while the run's process is gone too`,
      )
      .option("--reason <text>", "why, recorded with the answer")
      .option(
        "--answer <text>",
        "a checkpoint's answer: its text (kind input) or one of its choices, or the choice's number from 1 (kind select)",
      )
      .action(
        async (runId: string, gate: string | undefined, flags: { reason?: string; answer?: string }) => {
          code = await answerCommand(type, runId, gate, flags);
        },
      );
  }

  program
    .command("status [run]")
    .description(
      "a run's state, agents done/total, tokens, cost, elapsed, gate and owning process; without a run, every run that is live, waiting, paused, or whose process died",
    )
    .option("--all", "without a run: list every run")
    .option("--json", "print JSON")
    .action(async (runId: string | undefined, flags: { json?: boolean; all?: boolean }) => {
      code = await statusCommand(runId, flags);
    });

  program
    .command("logs <run>")
    .description("print a run's event stream (events.jsonl) as plain lines")
    .option("--follow", "keep printing until the run finishes")
    .option("--json", "print the events as stored, one JSON object per line")
    .action(async (runId: string, flags: { follow?: boolean; json?: boolean }) => {
      code = await logsCommand(runId, flags);
    });

  program
    .command("attach <run>")
    .description(
      "show the live progress of a run another process drives (e.g. started with --detach); Ctrl-C detaches and leaves it running",
    )
    .option("--json", "print the events as JSON lines on stdout")
    .action(async (runId: string, flags: { json?: boolean }) => {
      code = await attachCommand(runId, flags);
    });

  program
    .command("stop <run>")
    .description(
      "stop a running run from any terminal (as Ctrl-C in its own: running agents get SIGTERM; resumable), or with --agent one agent",
    )
    .option(
      "--agent <n|label>",
      "stop only this agent (its number, or a label: every queued or running agent with it); its agent() resolves to null and the run goes on",
    )
    .action(async (runId: string, flags: { agent?: string }) => {
      code = await stopCommand(runId, flags);
    });

  program
    .command("restart <run>")
    .description(
      "restart one running agent in place: its attempt gets SIGTERM and the same call starts again at once (no resume needed)",
    )
    .option("--agent <n|label>", "the agent: its number, or a label (every running agent with it)")
    .action(async (runId: string, flags: { agent?: string }) => {
      code = await restartCommand(runId, flags);
    });

  program
    .command("pause <run>")
    .description(
      "pause a running run: no new agents start, running ones finish, then it ends paused (exit 4); weft resume continues it",
    )
    .action(async (runId: string) => {
      code = await pauseCommand(runId);
    });

  program
    .command("ls")
    .description("list the runs in .weft/runs")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }) => {
      code = await lsCommand(flags);
    });

  program
    .command("show <run>")
    .description("show a run's summary and its agents (number, state, tokens, label), or one agent's record")
    .option(
      "--agent <n|label>",
      "show one agent's record: its number, or a label (every agent with it)",
      (v) => {
        if (/^#?\d+$/.test(v.trim()) && Number(v.trim().replace("#", "")) < 1)
          throw new InvalidArgumentError("agents are numbered from 1");
        return v;
      },
    )
    .option("--json", "print JSON")
    .action(async (runId: string, flags: { agent?: string; json?: boolean }) => {
      code = await showCommand(runId, flags);
    });

  program
    .command("clean [run]")
    .description("remove the git worktrees and branches a run kept")
    .option("--all", "every run's that no process is driving (finished, stopped, paused or crashed)")
    .action(async (runId: string | undefined, flags: { all?: boolean }) => {
      if (flags.all && runId !== undefined) throw new UsageError("give a run or --all, not both");
      if (flags.all) code = await cleanAllCommand(process.cwd(), join(process.cwd(), ".weft"));
      else if (runId === undefined) throw new UsageError("weft clean needs a run, or --all");
      else code = await cleanCommand(runId);
    });

  program
    .command("config")
    .description("print the merged settings and where each came from")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }) => {
      code = await configCommand(flags);
    });

  program
    .command("save <run> <name>")
    .description("save a run's script as a workflow in .weft/workflows (run it with `weft run <name>`)")
    .option("--global", "save in the user folder ($XDG_CONFIG_HOME/weft/workflows) instead")
    .option("--force", "overwrite a saved workflow of that name")
    .action(async (runId: string, name: string, flags: { global?: boolean; force?: boolean }) => {
      code = await saveCommand(runId, name, flags);
    });

  program
    .command("list-workflows")
    .description("list saved workflows: .weft/workflows, the user folder, .claude/workflows, bundled recipes")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }) => {
      code = await listWorkflowsCommand(flags);
    });

  program
    .command("init")
    .description(
      "create .weft/ (config, workflows, agents, ignore rules); --skill writes the authoring guide for a host",
    )
    .option(
      "--skill <host>",
      "codex, claude or pi: write the weft skill where that host reads skills, and its MCP registration",
    )
    .option("--force", "overwrite files init wrote before")
    .action(async (flags: { skill?: string; force?: boolean }) => {
      code = await (await import("./init-command.js")).initCommand(flags);
    });

  program
    .command("plan <script>")
    .description(
      "show a workflow's phases, agent calls, fan-out and an estimate of agents and tokens, without running it",
    )
    .option("--args <json>", "the args a run would get: fan-out over args lists is counted exactly")
    .option("--json", "print the plan as JSON")
    .option("--packets <dir>", "also write one work packet per literal agent() call as <dir>/<n>.md")
    .option("--fan-out <n>", "items assumed for a fan-out over something known only at run time (default 8)")
    .option("--tokens-per-agent <n>", "tokens assumed per agent for the estimate (default 50000)")
    .action(async (script: string, flags: PlanFlags) => {
      code = await (await import("./plan-command.js")).planCommand(script, flags);
    });

  program
    .command("report <run>")
    .description(
      "render a run's human artifacts again from its journal (plan.md, state.json, packets/, results/, integration.md, final-report.md)",
    )
    .action(async (runId: string) => {
      code = await (await import("./report-command.js")).reportCommand(runId);
    });

  program
    .command("mcp")
    .description(
      "serve weft's tools to a host agent (Claude Code, Codex, Pi) over MCP on stdio: workflow, workflow_status, workflow_result, workflow_wait, workflow_control",
    )
    .action(async () => {
      code = await (await import("./mcp-command.js")).mcpCommand();
    });

  program
    .command("worker")
    .description(
      "take agent tasks from a BullMQ queue on Redis and run them on this machine (see weft run --queue)",
    )
    .option("--redis <url>", "the queue's Redis (redis:// or rediss://, password and db in the URL)")
    .option("--concurrency <n>", "agents running at once (default 4)")
    .option("--driver <name>", "a driver this worker serves (repeatable; default all)", collectRepeated)
    .option("--command <cmd>", "the program of the command driver on this worker")
    .option("--queue-name <name>", "the queue's name (default weft-agents)")
    .option("--workdir <dir>", "where clones and worktrees go (default .weft-worker)")
    .option(
      "--lock-ms <ms>",
      "a task whose worker stops renewing its lock this long (a dead worker) goes to another worker (default 30000)",
    )
    .action(async (flags: WorkerFlags) => {
      code = await workerCommand(flags);
    });

  program
    .command("ui")
    .description("serve a dashboard of this project's runs on 127.0.0.1 (prints its URL with a token)")
    .option("--port <n>", "port to listen on (default: a free one)")
    .option("--host <host>", "address to listen on (default 127.0.0.1)")
    .option("--open", "open the dashboard in a browser")
    .action(async (flags: UiFlags) => {
      code = await uiCommand(flags);
    });

  program
    .command("doctor")
    .description("list the agent CLIs found, their versions, and which driver runs would use")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }) => {
      code = await doctorCommand(flags);
    });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    const ce = e as { code?: string; exitCode?: number };
    if (typeof ce.code === "string" && ce.code.startsWith("commander.")) {
      if (ce.code === "commander.helpDisplayed" || ce.code === "commander.version") return 0;
      if (ce.code === "commander.help") return 0;
      return 2;
    }
    return reportError(e);
  }
  return code;
}

guardOutputStreams();
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = reportError(e);
  },
);

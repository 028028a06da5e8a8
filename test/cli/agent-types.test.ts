import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { meta, project, runIdOf, runJson, runScript, weft } from "../helpers/cli.js";

const definitions = {
  ".weft/agents/rev.md": "---\nmodel: weft-model\ndescription: a strict reviewer\n---\nReview like a hawk.\n",
  ".claude/agents/critic-file.md":
    "---\nname: critic\ndescription: Claude Code critic\ntools: Read, Edit, Bash\nmodel: claude-model\ncolor: red\n---\nYou are the critic from Claude Code.\n",
  ".claude/agents/looker.md":
    "---\nname: looker\ndescription: reads only\ntools: Read, Grep, Glob\n---\nLook, do not touch.\n",
  ".codex/agents/planner.toml":
    'name = "planner"\ndescription = "Codex planner"\nmodel = "codex-model"\nmodel_reasoning_effort = "high"\nsandbox_mode = "workspace-write"\nnickname_candidates = ["Plato"]\ndeveloper_instructions = """\nPlan in numbered steps.\n"""\n',
};

const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];

describe("agent types (A02 agentType)", () => {
  test("A02 agentType from .weft/agents, .claude/agents and .codex/agents reaches the command driver: model as WEFT_MODEL, instructions in the prompt", async () => {
    const dir = project({
      ...definitions,
      "wf.js": `${meta()}return await parallel(["rev", "critic", "planner"].flatMap((t) => [
  () => agent("env", { agentType: t }),
  () => agent("stdin", { agentType: t }),
]))\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code).toBe(0);
    const [revEnv, revIn, criticEnv, criticIn, plannerEnv, plannerIn] = JSON.parse(r.stdout) as string[];
    expect(JSON.parse(revEnv!).WEFT_MODEL).toBe("weft-model");
    expect(JSON.parse(criticEnv!).WEFT_MODEL).toBe("claude-model");
    expect(JSON.parse(plannerEnv!).WEFT_MODEL).toBe("codex-model");
    expect(revIn).toContain(
      "## Your role: rev (a strict reviewer)\n\nReview like a hawk.\n\n## Your task\n\nstdin",
    );
    expect(criticIn).toContain("You are the critic from Claude Code.");
    expect(plannerIn).toContain("Plan in numbered steps.");
    // The preamble still comes first, and the script's own prompt is what the task file holds.
    expect(revIn!.startsWith("You are running non-interactively")).toBe(true);
    // Codex keys weft does not use are named once; the command driver cannot take effort.
    expect(r.stderr.match(/nickname_candidates not used by weft/g)).toHaveLength(1);
    expect(r.stderr).toContain('agent type "critic" (.claude/agents/critic-file.md): color not used by weft');
    expect(r.stderr).toMatch(/cannot set a reasoning effort/);
  });

  test("A02 explicit options win over the definition", async () => {
    const dir = project({
      ...definitions,
      "wf.js": `${meta()}return await agent("env", { agentType: "rev", model: "explicit-model" })\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).WEFT_MODEL).toBe("explicit-model");
  });

  test("A02 an agent type with no definition is refused for a driver without named agents, naming where weft looked", async () => {
    const dir = project({
      ...definitions,
      "wf.js": `${meta()}try { await agent("x", { agentType: "ghost" }) } catch (e) { return e.name + ": " + e.message }\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'OptionsError: agent() option "agentType": no definition of agent type "ghost"',
    );
    expect(r.stdout).toContain(".weft/agents/ghost.md, .claude/agents/ghost.md, .codex/agents/ghost.toml");
    expect(r.stdout).toContain("the command driver has no named agents");
  });

  test("A02 D09 a Claude Code agent whose tools cannot write asks for read-only, which the command driver passes on as WEFT_PERMISSIONS", async () => {
    const dir = project({
      ...definitions,
      "wf.js": `${meta()}return [await agent("env", { agentType: "looker" }), await agent("env", { agentType: "critic" })]\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.code, r.stderr).toBe(0);
    const [looker, critic] = (JSON.parse(r.stdout) as string[]).map((e) => JSON.parse(e));
    expect(looker.WEFT_PERMISSIONS).toBe("read-only");
    expect(critic.WEFT_PERMISSIONS).toBe("edit");
    expect(r.stderr.match(/the command driver does not enforce permissions/g)).toHaveLength(1);
  });

  test("A02 a broken definition is an error naming the file", async () => {
    const dir = project({
      ".codex/agents/bad.toml": 'model = "x"\nsandbox_mode = "everything"\n',
      "wf.js": `${meta()}try { await agent("x", { agentType: "bad" }) } catch (e) { return e.message }\n`,
    });
    const r = await runScript(dir, "wf.js");
    expect(r.stdout).toContain('agent definition .codex/agents/bad.toml: "sandbox_mode" must be one of');
  });

  test("A02 the definition is part of the cache key: an edited definition reruns its agents on resume", async () => {
    const dir = project({
      ...definitions,
      "wf.js": `${meta()}return [await agent("a log:" + cwd + "/starts.log", { agentType: "rev" }), await agent("b log:" + cwd + "/starts.log", { agentType: "planner" })]\n`,
    });
    const log = join(dir, "starts.log");
    const id = runIdOf(await runScript(dir, "wf.js"));
    expect(lines(log)).toHaveLength(2);
    await weft(["resume", id], dir);
    expect(lines(log)).toHaveLength(2);
    const rev = join(dir, ".weft", "agents", "rev.md");
    writeFileSync(rev, readFileSync(rev, "utf8").replace("hawk", "owl"));
    const again = await weft(["resume", id], dir);
    expect(again.code).toBe(0);
    // The edited agent runs again, and (R03) so does the call made after it: it saw the first
    // agent's edits (command agents are writers).
    expect(lines(log)).toHaveLength(4);
    expect(lines(log)[2]).toContain("start 3 a ");
    expect(lines(log)[3]).toContain("start 4 b ");
    expect(runJson(dir, id).agents).toMatchObject({ completed: 2 });
  });
});

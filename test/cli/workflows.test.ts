import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { runWorkflow } from "../../dist/index.js";
import { AGENT_CMD, cleanEnv, journal, project, runIdOf, runJson, runScript, weft } from "../helpers/cli.js";

const wf = (name: string, body: string, extra = "") =>
  `export const meta = { name: "${name}", description: "the ${name} workflow"${extra} }\n${body}\n`;

const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];

describe("saved workflows (U03)", () => {
  test("U03 weft run <name>: .weft/workflows, then the user folder, then .claude/workflows; by base name or meta.name", async () => {
    const dir = project({
      ".xdg/weft/workflows/flow.js": wf("flow", 'return "user"'),
      ".claude/workflows/flow.js": wf("flow", 'return "claude"'),
      ".claude/workflows/only-claude.js": wf("called-by-meta", 'return "claude by meta.name"'),
    });
    const run = (name: string) => weft(["run", name, "--command", "tail -n 1"], dir);
    let r = await run("flow");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("user");
    r = await run("called-by-meta");
    expect(r.stdout.trim()).toBe("claude by meta.name");
    mkdirSync(join(dir, ".weft", "workflows"), { recursive: true });
    writeFileSync(
      join(dir, ".weft", "workflows", "flow.ts"),
      wf("flow", 'const x: string = "project"\nreturn x'),
    );
    r = await run("flow");
    expect(r.stdout.trim()).toBe("project");
    // A file path still wins over a name.
    writeFileSync(join(dir, "flow"), wf("flow", 'return "the file"'));
    r = await run("flow");
    expect(r.stdout.trim()).toBe("the file");
  });

  // The recipes ship in the package's recipes/ folder (written by the recipes work of issue 6).
  const recipes = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "recipes");
  const recipeFiles = existsSync(recipes) ? readdirSync(recipes).filter((f) => /\.(js|ts)$/.test(f)) : [];
  test.skipIf(recipeFiles.length === 0)(
    "U03 bundled recipes are found last: listed with source recipes, shadowed by a project workflow of the same name",
    async () => {
      const name = recipeFiles[0]!.replace(/\.(js|ts)$/, "");
      const dir = project();
      let entries = JSON.parse((await weft(["list-workflows", "--json"], dir)).stdout) as any[];
      expect(entries.filter((e) => e.source === "recipes").map((e) => e.name)).toEqual(
        recipeFiles.map((f) => f.replace(/\.(js|ts)$/, "")),
      );
      expect(entries.find((e) => e.name === name)).toMatchObject({ source: "recipes", shadowed: false });
      mkdirSync(join(dir, ".weft", "workflows"), { recursive: true });
      writeFileSync(join(dir, ".weft", "workflows", `${name}.js`), wf(name, 'return "mine"'));
      entries = JSON.parse((await weft(["list-workflows", "--json"], dir)).stdout) as any[];
      expect(entries.find((e) => e.source === "recipes" && e.name === name).shadowed).toBe(true);
      const r = await weft(["run", name, "--command", "tail -n 1"], dir);
      expect(r.stdout.trim()).toBe("mine");
    },
  );

  test("U03 an unknown name fails with where weft looked and the names available", async () => {
    const dir = project({ ".weft/workflows/alpha.js": wf("alpha", "return 1") });
    const r = await weft(["run", "nope"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no workflow named "nope"');
    expect(r.stderr).toContain(".weft/workflows (project)");
    expect(r.stderr).toContain(".xdg/weft/workflows (user)");
    expect(r.stderr).toContain(".claude/workflows (claude)");
    expect(r.stderr).toContain("(recipes)");
    expect(r.stderr).toMatch(/Workflows available: .*alpha/);
    expect(existsSync(join(dir, ".weft", "runs"))).toBe(false);
  });

  test("U03 list-workflows: name, description, whenToUse, source; shadowed duplicates marked", async () => {
    const dir = project({
      ".weft/workflows/review.js": wf("review", "return 1", ', whenToUse: "before merging"'),
      ".xdg/weft/workflows/review.js": wf("review", "return 2"),
      ".claude/workflows/fix.js": wf("fix", "return 3"),
      ".claude/workflows/broken.js": "const x = 1\n",
    });
    const r = await weft(["list-workflows", "--json"], dir);
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.stdout) as any[];
    const mine = entries.filter((e) => e.source !== "recipes");
    expect(mine).toEqual([
      expect.objectContaining({
        name: "review",
        description: "the review workflow",
        whenToUse: "before merging",
        source: "project",
        shadowed: false,
      }),
      expect.objectContaining({ name: "review", source: "user", shadowed: true }),
      expect.objectContaining({
        name: "broken",
        source: "claude",
        error: expect.stringContaining("MetaError"),
      }),
      expect.objectContaining({ name: "fix", source: "claude", shadowed: false }),
    ]);
    const plain = await weft(["list-workflows"], dir);
    expect(plain.stdout).toMatch(/review\s+user\s+the review workflow\s+\(shadowed\)/);
    expect(plain.stdout).toContain("when: before merging");
  });

  test("U03 weft save copies the run's script; refuses to overwrite without --force; --global; never writes .claude/workflows", async () => {
    const dir = project({ "flow.ts": wf("flow", 'const n: number = 2\nreturn await agent("hi " + n)') });
    mkdirSync(join(dir, ".claude", "workflows"), { recursive: true });
    const id = runIdOf(await runScript(dir, "flow.ts"));
    let r = await weft(["save", id, "greet"], dir);
    expect(r.code).toBe(0);
    const saved = join(dir, ".weft", "workflows", "greet.ts");
    expect(readFileSync(saved, "utf8")).toBe(readFileSync(join(dir, "flow.ts"), "utf8"));
    r = await weft(["save", id, "greet"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--force");
    writeFileSync(saved, "changed");
    r = await weft(["save", id, "greet", "--force"], dir);
    expect(r.code).toBe(0);
    expect(readFileSync(saved, "utf8")).toContain("hi ");
    r = await weft(["save", id, "greet", "--global"], dir);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, ".xdg", "weft", "workflows", "greet.ts"))).toBe(true);
    r = await weft(["save", id, "../escape"], dir);
    expect(r.code).toBe(2);
    r = await weft(["save", "no-such-run", "x"], dir);
    expect(r.code).toBe(2);
    expect(readdirSync(join(dir, ".claude", "workflows"))).toEqual([]);
    r = await weft(["run", "greet", "--command", "tail -n 1"], dir);
    expect(r.stdout.trim()).toBe("hi 2");
  });
});

describe("workflow() (A11)", () => {
  const sub = wf(
    "sub",
    'const a = await agent("sub " + args.topic + " log:" + cwd + "/starts.log")\nreturn { topic: args.topic, a }',
    ', args: { type: "object", required: ["topic"], properties: { topic: { type: "string" } } }',
  );

  test("A11 workflow() runs a saved workflow or {scriptPath} inline with its args; meta.args checks them", async () => {
    const dir = project({
      ".weft/workflows/sub.js": sub,
      "flows/lib/helper.js": wf("helper", "return args.n * 2"),
      "flows/main.js": wf(
        "main",
        [
          'const r = await workflow("sub", { topic: "cats" })',
          'const h = await workflow({ scriptPath: "lib/helper.js" }, { n: 21 })',
          "let bad",
          'try { await workflow("sub", { topic: 3 }) } catch (e) { bad = e.name + ": " + e.message }',
          "let missing",
          'try { await workflow("nope") } catch (e) { missing = e.name + ": " + e.message }',
          "return { r, h, bad, missing }",
        ].join("\n"),
      ),
    });
    const r = await runScript(dir, "flows/main.js");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.r).toEqual({ topic: "cats", a: `echo: sub cats log:${dir}/starts.log` });
    expect(out.h).toBe(42);
    expect(out.bad).toMatch(
      /^ArgsError: .*meta\.args of \.weft\/workflows\/sub\.js: \/topic: must be string/,
    );
    expect(out.missing).toMatch(/^WorkflowError: .*no workflow named "nope"/);
    const id = runIdOf(r);
    const copies = readdirSync(join(dir, ".weft", "runs", id, "workflows")).sort();
    expect(copies).toEqual(["lib_helper.js", "sub.js"]);
    // Its agents are this run's agents.
    expect(runJson(dir, id).agents.completed).toBe(1);
  });

  test("A11 constructor chains through workflow(), its promise, its result and the nested args stay inside the sandbox", async () => {
    const probe = (p: string) =>
      `(() => { try { const v = ${p}; return String(v.constructor.constructor("return typeof process")()) } catch (e) { return e.name + ": " + e.message } })()`;
    const dir = project({
      ".weft/workflows/sub.js": wf(
        "sub",
        `return { inner: [${probe("args")}, ${probe("workflow")}], n: args.n }`,
      ),
      "main.js": wf(
        "main",
        `const r = await workflow("sub", { n: 1 })
return [...r.inner, ${probe("workflow")}, ${probe('workflow("sub", { n: 2 })')}, ${probe("r")}]`,
      ),
    });
    const r = await runScript(dir, "main.js");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as string[];
    expect(out).toHaveLength(5);
    for (const line of out) expect(line).toMatch(/Code generation from strings disallowed/);
  });

  test("A11 a script given as source (library, MCP inline script) resolves {scriptPath} from where weft was started", async () => {
    const dir = project({ "lib/helper.js": wf("helper", "return args.n + 1") });
    const r = await runWorkflow({
      script: { source: wf("inline", 'return await workflow({ scriptPath: "lib/helper.js" }, { n: 1 })') },
      cwd: dir,
      settings: { command: AGENT_CMD },
      env: cleanEnv(dir),
    });
    expect(r.status).toBe("completed");
    expect(r.result).toBe(2);
  });

  test("A11 the nested workflow's agents count against the run's maxAgents", async () => {
    const dir = project({
      ".weft/workflows/two.js": wf("two", 'return await parallel([() => agent("n1"), () => agent("n2")])'),
      "main.js": wf("main", 'const a = await agent("top")\nreturn [a, await workflow("two")]'),
    });
    const r = await runScript(dir, "main.js", ["--max-agents", "2"]);
    expect(r.code).toBe(3);
    const s = runJson(dir, runIdOf(r));
    expect(s.status).toBe("budget_exhausted");
    expect(s.agents.completed).toBe(2);
    expect(s.refused).toHaveLength(1);
    expect(s.result).toEqual(["echo: top", [expect.stringMatching(/^echo: n[12]$/), null]]);
  });

  test("A11 nesting is one level: workflow() in a nested workflow throws NestingError with file:line", async () => {
    const dir = project({
      ".weft/workflows/inner.js": wf("inner", "return 1"),
      ".weft/workflows/outer.js": wf("outer", '\nreturn await workflow("inner")'),
      "main.js": wf("main", 'return await workflow("outer")'),
    });
    const r = await runScript(dir, "main.js");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(".weft/workflows/outer.js:3:14: NestingError:");
    expect(r.stderr).toContain("nesting is one level");
  });

  test("A11 an error thrown in a nested workflow points into its file (E01), even one named like the caller", async () => {
    const dir = project({
      ".weft/workflows/main.js": wf("inner", '\nthrow new TypeError("inner broke")'),
      "main.js": wf("main", '\n\nreturn await workflow("main")'),
    });
    const r = await runScript(dir, "main.js");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(".weft/workflows/main.js:3:7: TypeError: inner broke");
  });

  test("A11 resume of a run with a nested workflow starts nothing finished; an edited nested workflow reruns only its changed calls", async () => {
    const dir = project({
      ".weft/workflows/sub.js": wf(
        "sub",
        'return [await agent("keep log:" + cwd + "/starts.log"), await agent("change-me log:" + cwd + "/starts.log")]',
      ),
      "main.js": wf(
        "main",
        `const x = await agent("top log:" + cwd + "/starts.log")\nreturn [x, await workflow("sub")]`,
      ),
    });
    const log = join(dir, "starts.log");
    const first = await runScript(dir, "main.js");
    expect(first.code).toBe(0);
    const id = runIdOf(first);
    expect(lines(log)).toHaveLength(3);
    const again = await weft(["resume", id], dir);
    expect(again.code).toBe(0);
    expect(lines(log)).toHaveLength(3);
    expect(runJson(dir, id).agents.cached).toBe(3);
    expect(JSON.parse(again.stdout)).toEqual(JSON.parse(first.stdout));
    // Edit the saved workflow: a plain resume replays the run's copy, --resume reads the edit.
    const subPath = join(dir, ".weft", "workflows", "sub.js");
    writeFileSync(subPath, readFileSync(subPath, "utf8").replace("change-me", "changed"));
    await weft(["resume", id], dir);
    expect(lines(log)).toHaveLength(3);
    const edited = await runScript(dir, "main.js", ["--resume", id]);
    expect(edited.code).toBe(0);
    expect(lines(log)).toHaveLength(4);
    expect(lines(log)[3]).toContain("changed");
    expect(readdirSync(join(dir, ".weft", "runs", id, "workflows")).sort()).toEqual(["sub.1.js", "sub.js"]);
    const finished = journal(dir, id).filter((r) => r.type === "agent.finished");
    expect(finished.map((r) => r.n).sort()).toEqual([1, 2, 3, 4]);
  });
});

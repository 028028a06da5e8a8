/**
 * The bundled recipes (U03), each run by path with the command driver in a real git repository,
 * against test/fixtures/recipe-agent.mjs: a stand-in agent that works on the repository's files
 * by rule (see its header). Recipes that want read-only agents get `readOnly: false`, since the
 * command driver cannot enforce read-only and refuses it.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { gitOut, gitProject, journal, runIdOf, weft } from "../helpers/cli.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const recipe = (name: string) => join(root, "recipes", `${name}.js`);
const AGENT = `node ${join(root, "test", "fixtures", "recipe-agent.mjs")}`;

async function runRecipe(dir: string, name: string, args: unknown, flags: string[] = []) {
  const r = await weft(
    ["run", recipe(name), "--command", AGENT, "--args", JSON.stringify(args), ...flags],
    dir,
  );
  return { ...r, id: runIdOf(r), out: r.stdout.trim() ? JSON.parse(r.stdout) : undefined };
}
const finished = (dir: string, id: string) => journal(dir, id).filter((x) => x.type === "agent.finished");
const read = (dir: string, f: string) => readFileSync(join(dir, f), "utf8");

describe("bundled recipes", () => {
  test("U03 triangulated-review: one reviewer per lens, findings merged across lenses and de-duplicated", async () => {
    const dir = gitProject({
      "src/auth.js": [
        "export function login(user, pass) {",
        "  return db.query('SELECT * FROM users WHERE name = ' + user) // BUG(correctness,security): query built from input !high",
        "}",
        "export const timeout = 0 // BUG(correctness): a zero timeout never waits !low",
      ].join("\n"),
      "src/cache.js": "export const size = 10 // BUG(performance): cache too small\n",
    });
    const r = await runRecipe(dir, "triangulated-review", {
      target: "src/",
      lenses: ["correctness", "security", "performance"],
      readOnly: false,
    });
    expect(r.code, r.stderr).toBe(0);
    // The injection was reported by two lenses and is one finding; sorted by severity.
    expect(r.out.findings).toEqual([
      {
        file: "src/auth.js",
        line: 2,
        severity: "high",
        issue: "query built from input",
        lenses: ["correctness", "security"],
      },
      {
        file: "src/cache.js",
        line: 1,
        severity: "medium",
        issue: "cache too small",
        lenses: ["performance"],
      },
      {
        file: "src/auth.js",
        line: 4,
        severity: "low",
        issue: "a zero timeout never waits",
        lenses: ["correctness"],
      },
    ]);
    expect(r.out).toMatchObject({ merged: true, reported: 4, failedLenses: [] });
    const labels = finished(dir, r.id).map((x) => x.label);
    expect(labels.sort()).toEqual([
      "merge",
      "review: correctness",
      "review: performance",
      "review: security",
    ]);
  });

  test("U03 triangulated-review: reviewers run read-only by default, which the command driver refuses by name", async () => {
    const dir = gitProject({ "a.js": "x\n" });
    const r = await runRecipe(dir, "triangulated-review", { lenses: ["correctness"] });
    // The refusal is the reviewer's null; E03: with no reviewer left the recipe fails, it does
    // not return an empty list of findings.
    expect(r.code, r.stderr).toBe(1);
    expect(r.out).toBeUndefined();
    expect(r.stderr).toMatch(/read-only/);
    expect(r.stderr).toContain("every reviewer failed (review: correctness)");
  });

  test("U03 review-fix-verify: findings fixed one file per worktree, checked by verify, integrated; a fix that fails verify is not", async () => {
    const dir = gitProject({
      "src/a.js": 'export const a = "WRONG" // BUG(correctness): a is wrong\n',
      "src/b.js": 'export const b = "WRONG" // BUG(correctness): b is wrong !high\n',
      "src/c.js": '// STUBBORN\nexport const c = "WRONG" // BUG(correctness): c is wrong\n',
      "src/ok.js": "export const ok = 1\n",
    });
    const r = await runRecipe(dir, "review-fix-verify", {
      // The fixer's own file changed, and no WRONG is left in what it changed.
      verify: 'test -n "$(git diff --name-only)" && ! git diff --name-only | xargs grep -l WRONG',
      readOnly: false,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.findings).toHaveLength(3);
    expect(r.out.fixed.sort()).toEqual(["src/a.js", "src/b.js"]);
    expect(r.out.failed).toEqual(["src/c.js"]);
    expect(read(dir, "src/a.js")).toBe('export const a = "RIGHT"\n');
    expect(read(dir, "src/b.js")).toBe('export const b = "RIGHT"\n');
    expect(read(dir, "src/c.js")).toContain("WRONG");
    const fixes = finished(dir, r.id).filter((x) => x.label?.startsWith("fix "));
    expect(fixes.map((x) => [x.label, x.status]).sort()).toEqual([
      ["fix src/a.js", "completed"],
      ["fix src/b.js", "completed"],
      ["fix src/c.js", "failed"],
    ]);
    // Each fixer was limited to its own file and worked in its own worktree.
    for (const f of fixes) expect(f.worktree.branch).toMatch(new RegExp(`^weft/${r.id}/`));
  });

  test("U03 scout-act-verify: the scout's map drives one change in a worktree; integrated, then verified", async () => {
    const dir = gitProject({
      "src/greet.js": 'export function greet(name) { return "hi " + name }\n',
      "src/main.js": 'import { greet } from "./greet.js"\nconsole.log(greet("you"))\n',
      "src/other.js": "export const other = 1\n",
    });
    const r = await runRecipe(dir, "scout-act-verify", {
      task: "Rename greet to hello",
      verify: "! grep -rq greet src",
      writes: ["src/**"],
      readOnly: false,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.scout.files).toEqual(["src/greet.js", "src/main.js"]);
    expect(r.out.changed.sort()).toEqual(["src/greet.js", "src/main.js"]);
    expect(r.out.verdict).toEqual({ ok: true, problems: [] });
    expect(read(dir, "src/main.js")).toContain("hello(");
    expect(finished(dir, r.id).map((x) => x.label)).toEqual(["scout", "act", "verify"]);
  });

  test("U03 split-by-sections: a scout splits by folder, one worktree agent per section limited to it, all integrated", async () => {
    const dir = gitProject({
      "src/api/a.js": "greet()\n",
      "src/cli/b.js": "greet()\n",
      "src/db/c.js": "greet()\n",
      "README.md": "greet is documented here\n",
    });
    const r = await runRecipe(dir, "split-by-sections", {
      task: "Rename greet to hello",
      // Each section's worktree still has the other sections' files: check only what it changed.
      verify: 'test -n "$(git diff --name-only)" && ! git diff --name-only | xargs grep -l greet',
      readOnly: false,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.sections.map((s: { name: string; paths: string[] }) => [s.name, s.paths])).toEqual([
      ["api", ["src/api/**"]],
      ["cli", ["src/cli/**"]],
      ["db", ["src/db/**"]],
    ]);
    expect(r.out.applied.map((a: { section: string }) => a.section)).toEqual(["api", "cli", "db"]);
    expect(r.out.conflicts).toEqual([]);
    for (const f of ["src/api/a.js", "src/cli/b.js", "src/db/c.js"]) expect(read(dir, f)).toBe("hello()\n");
    // Outside every section, nothing changed.
    expect(read(dir, "README.md")).toBe("greet is documented here\n");
    const work = finished(dir, r.id).filter((x) => x.worktree);
    expect(work).toHaveLength(3);
  });

  test("U03 split-by-sections: given sections skip the scout; two sections over the same files: the second conflicts and is reported", async () => {
    const dir = gitProject({ "src/api/a.js": "greet()\n", "src/cli/b.js": "greet()\n" });
    const r = await runRecipe(dir, "split-by-sections", {
      task: "Rename greet to hello",
      sections: [
        { name: "api", paths: ["src/api/**"] },
        { name: "cli", paths: ["src/cli/x.js", "src/cli/**"] },
        { name: "narrow", paths: ["src/api/**"] },
      ],
      readOnly: false,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(finished(dir, r.id).map((x) => x.label)).toEqual(expect.not.arrayContaining(["split"]));
    expect(r.out.sections.map((s: { done: boolean }) => s.done)).toEqual([true, true, true]);
    // api and narrow both rename src/api/a.js: the first applies, the second conflicts.
    expect(r.out.applied.map((a: { section: string }) => a.section)).toEqual(["api", "cli"]);
    expect(r.out.conflicts.map((c: { section: string }) => c.section)).toEqual(["narrow"]);
  });

  test("U03 research-synthesis: questions in parallel, a synthesis, each claim checked; refuted and unsupported claims dropped", async () => {
    const dir = gitProject({ "README.md": "docs\n" });
    const r = await runRecipe(dir, "research-synthesis", {
      questions: ["how does the cache expire", "is the myth true", "what is vague here"],
      readOnly: false,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.kept.map((c: { claim: string }) => c.claim)).toEqual([
      'about "how does the cache expire": it is documented',
      'about "is the myth true": it is documented',
      'about "what is vague here": it is documented',
    ]);
    expect(r.out.dropped.map((c: { verdict: string }) => c.verdict)).toEqual(["refuted", "unsupported"]);
    expect(r.out.report).toContain("it is documented");
    expect(r.out.report).not.toContain("FALSE");
    expect(r.out.report).not.toContain("VAGUE");
    const labels = finished(dir, r.id).map((x) => x.label);
    expect(labels.filter((l: string) => l.startsWith("check "))).toHaveLength(5);
    expect(labels).toContain("synthesis");
    expect(labels).toContain("report");
  });

  test("U03 options-sprint: several drafts, one chosen with reasons, refined with ideas from the others", async () => {
    const dir = gitProject({ "README.md": "docs\n" });
    const r = await runRecipe(dir, "options-sprint", {
      problem: "Design the retry policy",
      angles: ["the most robust option", "the simplest thing that could work", "an unconventional option"],
      readOnly: false,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.options).toHaveLength(3);
    expect(r.out.chosen).toBe(2);
    expect(r.out.reasons).toEqual(["the simplest thing that could work is the simplest"]);
    expect(r.out.refined.title).toBe("refined: the simplest thing that could work");
    expect(r.out.refined.approach).toContain("borrow: the most robust option");
  });

  test("U03 migration: files from a scout, one worktree agent per file with a per-file verify; a file that fails its check is not integrated", async () => {
    const dir = gitProject({
      "src/a.js": "OLD_API.call()\n",
      "src/b.js": "OLD_API.call()\n",
      "src/c.js": "// SKIPME\nOLD_API.call()\n",
      "src/d.js": "unrelated()\n",
    });
    const r = await runRecipe(dir, "migration", {
      instructions: "Replace OLD_API with NEW_API",
      verify: "! grep -q OLD_API {file}",
      readOnly: false,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out).toEqual({
      files: 3,
      migrated: ["src/a.js", "src/b.js"],
      failed: ["src/c.js"],
      conflicts: [],
    });
    expect(read(dir, "src/a.js")).toBe("NEW_API.call()\n");
    expect(read(dir, "src/c.js")).toContain("OLD_API");
    const recs = finished(dir, r.id);
    const c = recs.find((x) => x.label === "src/c.js");
    expect(c.status).toBe("failed");
    // verify ran per file, with the file's own path.
    const rec = JSON.parse(read(dir, `.weft/runs/${r.id}/agents/${c.n}.json`));
    expect(rec.options.verify).toEqual(["! grep -q OLD_API 'src/c.js'"]);
    expect(rec.verify.length).toBeGreaterThan(1);
    expect(gitOut(dir, "status", "--porcelain")).toBe(" M src/a.js\n M src/b.js\n");
  });

  test("U03 migration: a file list from args skips the scout", async () => {
    const dir = gitProject({ "x.js": "OLD_API\n", "y.js": "OLD_API\n" });
    const r = await runRecipe(dir, "migration", {
      instructions: "Replace OLD_API with NEW_API",
      files: ["y.js"],
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out).toMatchObject({ files: 1, migrated: ["y.js"], failed: [] });
    expect(finished(dir, r.id).map((x) => x.label)).toEqual(["y.js"]);
    expect(read(dir, "x.js")).toBe("OLD_API\n");
  });
});

/**
 * Issue 4, as a contract test (D10, W01, W02, W04): `weft run --driver codex` with agents in git
 * worktrees, against the real pinned codex and the scripted server. codex's workspace-write
 * sandbox confines writes to the agent's workspace and keeps its git folder read-only, and a
 * linked worktree's git folder lives in the main repository's `.git`: an edit of a file must work,
 * and so must a commit in the worktree (the driver opens just the git folders a commit writes).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { CliDriverConfig } from "../../src/drivers/cli-driver.js";
import { gitOut, gitProject, journal, meta, runIdOf, runJson, weft } from "../helpers/cli.js";
import { ensureCli } from "../support/clis.js";
import { codexOfflineToml } from "../support/codex-config.js";
import { type ModelServer, startModelServer } from "../support/model-server/index.js";

let server: ModelServer;
let bin: string;
beforeAll(async () => {
  bin = await ensureCli("codex");
  server = await startModelServer();
});
afterAll(async () => {
  await server?.close();
});

/** codex pointed at the server, with its own home (the same setup as codex.test.ts). */
function codexSettings(home: string): CliDriverConfig {
  const codexHome = join(home, ".codex");
  const tmp = join(home, "tmp");
  for (const d of [codexHome, tmp]) mkdirSync(d, { recursive: true });
  writeFileSync(join(codexHome, "config.toml"), codexOfflineToml(server.url).join("\n"));
  return {
    bin,
    env: {
      HOME: home,
      TMPDIR: tmp,
      XDG_DATA_HOME: join(home, ".local", "share"),
      XDG_CACHE_HOME: join(home, ".cache"),
      XDG_STATE_HOME: join(home, ".local", "state"),
      CODEX_HOME: codexHome,
      MOCK_API_KEY: "x",
    },
  };
}

// Agent 1 edits a committed file. Agent 2 commits in its worktree first, and only if that commit
// succeeds appends to its file: its edit reaching the main tree proves the commit worked.
const SCRIPT = `${meta("codex-worktree")}const [a, b] = await parallel([
  () => agent("[[run: printf 'edited by codex\\\\n' >> notes.txt]]", { isolation: "worktree", label: "edit" }),
  () => agent("[[run: git commit -q --allow-empty -m agent-commit && printf 'after a commit\\\\n' >> other.txt]]", { isolation: "worktree", label: "commit" }),
])
const res = await integrate()
return { applied: res.applied.map((p) => p.n).sort(), conflicts: res.conflicts.length }
`;

test("W01 codex: agents in worktrees edit a committed file and commit; integrate() brings both into the main tree", async () => {
  const dir = gitProject({ "notes.txt": "base notes\n", "other.txt": "base other\n", "wf.js": SCRIPT });
  // Outside the repository: integrate() refuses a main tree with changes of its own.
  const home = mkdtempSync(join(tmpdir(), "weft-codex-home-"));
  // The agents' commits need an author; the repository's config is shared by its worktrees.
  gitOut(dir, "config", "user.name", "agent");
  gitOut(dir, "config", "user.email", "agent@example.com");
  mkdirSync(join(dir, ".weft"), { recursive: true });
  writeFileSync(
    join(dir, ".weft", "config.json"),
    JSON.stringify({ drivers: { codex: { ...codexSettings(home), model: "gpt-5.5" } } }, null, 2),
  );

  const r = await weft(["run", "wf.js", "--driver", "codex"], dir).finally(() =>
    rmSync(home, { recursive: true, force: true }),
  );
  expect(r.stderr).not.toMatch(/failed/);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ applied: [1, 2], conflicts: 0 });
  const id = runIdOf(r);
  expect(runJson(dir, id).status).toBe("completed");

  // Each agent's diff was saved as its patch.
  const patches = join(dir, ".weft", "runs", id, "patches");
  expect(readdirSync(patches).sort()).toEqual(["1.patch", "2.patch"]);
  expect(readFileSync(join(patches, "1.patch"), "utf8")).toContain("+edited by codex");
  expect(readFileSync(join(patches, "2.patch"), "utf8")).toContain("+after a commit");

  // The agents ran in their worktrees, under codex's workspace-write sandbox.
  const finished = journal(dir, id).filter((x) => x.type === "agent.finished");
  expect(finished.map((x) => x.status)).toEqual(["completed", "completed"]);
  expect(finished.map((x) => x.worktree.branch).sort()).toEqual([`weft/${id}/1`, `weft/${id}/2`]);

  // Integrated into the main working tree.
  expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("base notes\nedited by codex\n");
  expect(readFileSync(join(dir, "other.txt"), "utf8")).toBe("base other\nafter a commit\n");
  expect(gitOut(dir, "status", "--porcelain", "--", "notes.txt", "other.txt")).toBe(
    " M notes.txt\n M other.txt\n",
  );
}, 180_000);

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { settleIndex } from "../../src/workspace/settle.js";

/** A repository of `files` files and a fresh worktree of it, checked out as weft does. */
function checkout(files: number): { worktree: string; index: string } {
  const root = mkdtempSync(join(tmpdir(), "weft-settle-"));
  const repo = join(root, "repo");
  mkdirSync(join(repo, "many"), { recursive: true });
  writeFileSync(join(repo, "w.txt"), "old\n");
  for (let i = 0; i < files; i++) writeFileSync(join(repo, "many", `f${i}.txt`), `${i}\n`);
  const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" });
  git(repo, "init", "-q");
  git(repo, "add", "-A");
  git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "base");
  const worktree = join(root, "wt");
  git(repo, "worktree", "add", "--quiet", "--no-checkout", "-b", "wt", worktree, "HEAD");
  git(worktree, "read-tree", "-m", "-u", "HEAD");
  return { worktree, index: join(repo, ".git", "worktrees", "wt", "index") };
}

const status = (cwd: string) => execFileSync("git", ["status", "--porcelain"], { cwd, encoding: "utf8" });

describe("settleIndex", () => {
  test("W02 a same-size edit made at once after the index is dated past the checkout is still seen", async () => {
    const { worktree } = checkout(1200);
    expect(await settleIndex(worktree, Number.POSITIVE_INFINITY)).toBe(true);
    writeFileSync(join(worktree, "w.txt"), "new\n");
    expect(status(worktree)).toBe(" M w.txt\n");
  });

  test("W02 the dated index is in a later second than every file, so status compares stat data only", async () => {
    const { worktree, index } = checkout(1200);
    await settleIndex(worktree, Number.POSITIVE_INFINITY);
    const indexSecond = Math.floor(statSync(index).mtimeMs / 1000);
    const files = readdirSync(join(worktree, "many")).map((f) => join(worktree, "many", f));
    for (const f of [join(worktree, "w.txt"), ...files])
      expect(Math.floor(statSync(f).mtimeMs / 1000)).toBeLessThan(indexSecond);
    expect(status(worktree)).toBe("");
  });

  test("W02 a small index, or a wait longer than allowed, is left as git wrote it", async () => {
    const small = checkout(10);
    const before = readFileSync(small.index);
    const mtime = statSync(small.index).mtimeMs;
    expect(await settleIndex(small.worktree, Number.POSITIVE_INFINITY)).toBe(false);
    expect(statSync(small.index).mtimeMs).toBe(mtime);
    expect(readFileSync(small.index)).toEqual(before);
    const large = checkout(1200);
    const largeMtime = statSync(large.index).mtimeMs;
    expect(await settleIndex(large.worktree, -1)).toBe(false);
    expect(statSync(large.index).mtimeMs).toBe(largeMtime);
  });
});

/**
 * Which `.weft/` a command in `cwd` uses (U01, R01): the one in `cwd` when it has one; else the
 * closest one above it up to the project's git root (weft started from `src/` of a project set
 * up at its root uses the root's runs, config and workflows instead of starting a second
 * `.weft/` beside the user); else `cwd/.weft`, created when a run needs it.
 */
import { statSync } from "node:fs";
import { dirname, join } from "node:path";

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

const exists = (p: string) => {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
};

/** The top of the git work tree `cwd` is in (a `.git` folder, or the file of a worktree), if any. */
export function gitRootOf(cwd: string): string | undefined {
  let dir = cwd;
  for (;;) {
    if (exists(join(dir, ".git"))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export function weftDirOf(cwd: string): string {
  const here = join(cwd, ".weft");
  if (isDir(here)) return here;
  const root = gitRootOf(cwd);
  if (root === undefined || root === cwd) return here;
  // Never above the project: a `.weft/` in the home folder is not this project's.
  for (let dir = dirname(cwd); ; dir = dirname(dir)) {
    if (isDir(join(dir, ".weft"))) return join(dir, ".weft");
    if (dir === root || dirname(dir) === dir) return here;
  }
}

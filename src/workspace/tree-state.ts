/**
 * The state of files, as "<mode> <blob id>" (or ABSENT), in a commit and in the main working tree.
 * Integration (W04) compares the two to tell a file weft has not changed yet, one it already
 * changed (a kill mid-integration), and one the user changed; see Workspace.integrate.
 */
import { lstat, readlink } from "node:fs/promises";
import { join } from "node:path";
import { git } from "./git.js";

export const ABSENT = "absent";

/** "<mode> <blob>" of each of `paths` in commit `rev`; paths not in it are ABSENT. One git process. */
export async function statesAt(root: string, rev: string, paths: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>(paths.map((p) => [p, ABSENT]));
  if (paths.length === 0) return out;
  const r = await git(
    ["--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", rev, "--", ...paths],
    root,
  );
  for (const entry of r.stdout.split("\0")) {
    if (!entry) continue;
    // "<mode> SP <type> SP <object> TAB <path>"
    const tab = entry.indexOf("\t");
    const [mode, , blob] = entry.slice(0, tab).split(" ");
    out.set(entry.slice(tab + 1), `${mode} ${blob}`);
  }
  return out;
}

/**
 * "<mode> <blob>" of each of `paths` in the working tree, hashed as `git add` would (filters
 * applied); ABSENT when missing; a folder or other non-file where a file is expected is "other".
 */
export async function workingStates(root: string, paths: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const files: string[] = [];
  for (const p of paths) {
    let st: Awaited<ReturnType<typeof lstat>>;
    try {
      st = await lstat(join(root, p));
    } catch {
      out.set(p, ABSENT);
      continue;
    }
    if (st.isSymbolicLink()) {
      // A link's blob is its target text, which hash-object would follow instead.
      const target = await readlink(join(root, p));
      const blob = (await git(["hash-object", "--stdin"], root, { input: target })).stdout.trim();
      out.set(p, `120000 ${blob}`);
    } else if (st.isFile() && !p.includes("\n")) {
      out.set(p, (st.mode & 0o111) !== 0 ? "100755" : "100644");
      files.push(p);
    } else {
      out.set(p, "other");
    }
  }
  if (files.length > 0) {
    const r = await git(["hash-object", "--stdin-paths"], root, { input: `${files.join("\n")}\n` });
    const blobs = r.stdout.trim().split("\n");
    for (let i = 0; i < files.length; i++) out.set(files[i]!, `${out.get(files[i]!)} ${blobs[i]}`);
  }
  return out;
}

/** Dating a fresh checkout's index past its files, so that git status need not hash them. */
import { readFile, stat, utimes } from "node:fs/promises";
import { join } from "node:path";

/**
 * A fresh checkout's files and its index are written in the same second, and git (built without
 * USE_NSEC, as Debian's is) counts every file whose mtime is in the index's own second as "racily
 * clean": the next `git status` reads and hashes each of them, about as costly as the checkout
 * again (5,000 files: 60 to 100 ms of processor time here, against 25 to 40 ms for a status that
 * compares stat data only; bench/worktrees.mjs).
 *
 * Nothing has touched the files since git wrote them and recorded their stat data, so once the
 * clock is in a later second the index can be dated to that second: every later write gets a
 * later mtime and ctime than the index records, and status goes back to comparing stat data
 * only. The wait (under a second) happens before the agent starts, the only moment it is sound,
 * so it is taken only where it costs no time: while the checkouts still to come (at least one
 * registration each, one at a time) keep the processor busy for longer than the wait, and for
 * indexes large enough for the hashing to matter. A lone checkout, or the last ones of a fan-out,
 * start their agents at once and leave the hashing to the status after them.
 */
export const SETTLE_MIN_INDEX_BYTES = 64 * 1024;
/** File timestamps come from the kernel's coarse clock, up to a tick behind Date.now(). */
const COARSE_CLOCK_MARGIN_MS = 25;

/**
 * Date the index of the fresh checkout `worktree` past its files, waiting up to `maxWaitMs` for
 * the clock to reach the next second; true when done. Call it before anything else writes there.
 */
export async function settleIndex(worktree: string, maxWaitMs: number): Promise<boolean> {
  const dotGit = await readFile(join(worktree, ".git"), "utf8");
  const gitdir = /^gitdir: (.+)$/m.exec(dotGit)?.[1];
  if (!gitdir) return false;
  const index = join(gitdir.trim(), "index");
  const st = await stat(index, { bigint: true });
  if (st.size < SETTLE_MIN_INDEX_BYTES) return false;
  // Whole seconds: a file system that keeps coarse times (FAT's 2 s) could give a later write the
  // very mtime the index records; leave such an index to git's own racy check.
  if (st.mtimeNs % 1_000_000_000n === 0n) return false;
  const next = Number(st.mtimeNs / 1_000_000_000n) + 1;
  const wait = next * 1000 + COARSE_CLOCK_MARGIN_MS - Date.now();
  if (wait > maxWaitMs) return false;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  await utimes(index, Number(st.atimeMs) / 1000, next);
  return true;
}

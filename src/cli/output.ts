/**
 * C04: a closed stdout or stderr never ends a run. `weft run ... | head -1`, a terminal that
 * closed (EIO on a tty whose other side is gone) or a reader that went away makes the next write
 * fail with EPIPE; a stream with no "error" listener turns that into an uncaught exception, which
 * kills weft mid-run with its agents still going, and prints a stack trace from `weft ls | head`.
 * With a listener, a failed stream just stops taking output: progress stops, the run goes on (or
 * stops cleanly), list commands end with their own exit code. The same holds for any write error
 * of these two streams (ENOSPC under a redirect to a full disk): the run's own record is the
 * journal in the run directory, never this output.
 */
export function guardOutputStreams(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", () => {
      // Later writes go nowhere instead of raising the error again.
      stream.write = (() => true) as typeof stream.write;
    });
  }
}

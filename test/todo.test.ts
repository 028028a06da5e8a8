/** Spec behaviours this version does not have yet (README "Status"). */
import { test } from "vitest";

test.todo("U08 weft ui dashboard");
test.todo("X01 weft worker and --queue on Redis");
test.todo("X02 workers run tasks in their own checkout");
test.todo("C01 stallMs per call; a stalled agent restarts up to 5 times, then agent() throws");
test.todo(
  "D09 the command driver takes read-only and full as WEFT_PERMISSIONS; a read-only worktree agent with a diff fails",
);
test.todo("A10 budget counts generated tokens (output + reasoning) only");

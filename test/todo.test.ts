/** Spec behaviours this version does not have yet (README "Status"). */
import { test } from "vitest";

test.todo("R03 a cached call runs again when a writer recorded before it runs again; resume: prefix");
test.todo("C03 waitForUsageReset sleeps until the usage limit resets and continues");
test.todo("C01 stallMs per call; a stalled agent restarts up to 5 times, then agent() throws");
test.todo("A10 budget counts generated tokens (output + reasoning) only");

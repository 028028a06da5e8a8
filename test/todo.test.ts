/** Spec behaviours this version does not have yet (README "Status"). */
import { test } from "vitest";

test.todo("X01 weft worker and --queue on Redis");
test.todo("X02 workers run tasks in their own checkout");
test.todo("R03 a cached call runs again when a writer recorded before it runs again; resume: prefix");
test.todo("C03 waitForUsageReset sleeps until the usage limit resets and continues");

/** Spec behaviours this version does not have yet (README "Status"). */
import { test } from "vitest";

test.todo("X01 weft worker and --queue on Redis");
test.todo("X02 workers run tasks in their own checkout");

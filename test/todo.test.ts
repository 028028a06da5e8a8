/** Spec behaviours this version does not have yet (README "Status"). */
import { test } from "vitest";

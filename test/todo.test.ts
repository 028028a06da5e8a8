/** Spec behaviours this version does not have yet (README "Status"). */
import { test } from "vitest";

test.todo("A11 workflow(nameOrRef, args) runs a saved workflow inline (saved workflows, issue 6)");
test.todo("A14 gate(title, {details}) pauses for approval (issue 5)");
test.todo("R08 weft fork <run> --from/--rerun (issue 5)");
test.todo("C02 CLI drivers retry transient failures with backoff and jitter (issue 3)");
test.todo("C03 quota, billing and auth failures trip a breaker; the run ends paused (issue 3)");
test.todo("C05 weft stop <run> --agent <n> stops one agent (issue 5)");
test.todo("C08 weft pause <run> (issue 5)");
test.todo("D02 built-in codex, claude, pi, opencode and gemini drivers (issue 3)");
test.todo("D03 driver auto-detection on PATH and weft doctor (issue 3)");
test.todo("D04 model and effort through each backend's own flags (issue 3)");
test.todo("D05 permissions mapped to each backend's sandbox flags (issue 3)");
test.todo("D06 native structured output for codex and claude (issue 3)");
test.todo("D07 usage and cost from each backend's own reports (issue 3)");
test.todo("D10 contract tests against the pinned real CLIs and a scripted model server (issue 3)");
test.todo("U03 saved workflows and weft run <name> (issue 6)");
test.todo("U04 weft mcp server (issue 6)");
test.todo("U05 weft init --skill (issue 6)");
test.todo("U06 weft plan (issue 6)");
test.todo("U07 human artifacts in the run directory (issue 6)");
test.todo("U08 weft ui dashboard");
test.todo("X01 weft worker and --queue on Redis");
test.todo("X02 workers run tasks in their own checkout");

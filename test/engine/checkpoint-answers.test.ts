/** A14: what an approve or reject makes of a checkpoint of each kind, and of a typed line. */
import { expect, test } from "vitest";
import { checkpointRequest } from "../../dist/cli/gate-commands.js";
import type { CheckpointSpec } from "../../dist/engine/gate-text.js";
import { answerValue } from "../../dist/engine/gates.js";

const select = {
  gate: 2,
  title: "Which?",
  checkpoint: { kind: "select", choices: ["a", "b"], headless: "default" } as CheckpointSpec,
};
const input = {
  gate: 3,
  title: "Name?",
  checkpoint: { kind: "input", headless: "default" } as CheckpointSpec,
};
const confirm = {
  gate: 4,
  title: "Go?",
  checkpoint: { kind: "confirm", headless: "default" } as CheckpointSpec,
};
const plain = { gate: 1, title: "Deploy?" };

test("A14 answers by kind: a choice by text or number, text as given, approve/reject as true/false; what does not fit is refused", () => {
  expect(answerValue(select, { type: "approve", answer: "b" })).toEqual({ value: "b" });
  expect(answerValue(select, { type: "approve", answer: " 1 " })).toEqual({ value: "a" });
  expect(answerValue(select, { type: "approve", answer: "3" }, "r1")).toBe(
    '"3" is not a choice of checkpoint #2 "Which?": 1. a, 2. b',
  );
  expect(answerValue(select, { type: "approve" }, "r1")).toBe(
    'checkpoint #2 "Which?" asks for an answer: weft approve r1 2 --answer <a|b>',
  );
  expect(answerValue(select, { type: "reject" })).toEqual({ value: false });
  expect(answerValue(select, { type: "reject", answer: "a" })).toBe("a rejection takes no --answer");
  expect(answerValue(input, { type: "approve", answer: "  spaced  " })).toEqual({ value: "  spaced  " });
  expect(answerValue(input, { type: "approve", answer: "" })).toEqual({ value: "" });
  expect(answerValue(confirm, { type: "approve" })).toEqual({ value: true });
  expect(answerValue(confirm, { type: "approve", answer: "yes" })).toBe(
    'checkpoint #4 "Go?" is a yes/no question: approve or reject it, without --answer',
  );
  // A gate() is a yes/no question too.
  expect(answerValue(plain, { type: "reject" })).toEqual({ value: false });
  expect(typeof answerValue(plain, { type: "approve", answer: "x" })).toBe("string");
});

test("A14 a line typed at the prompt: y/n, Enter takes a default of the kind, an input keeps its text", () => {
  const c = (over: object) => ({ kind: "confirm", headless: "default", ...over }) as any;
  expect(checkpointRequest(c({}), "Yes", 1)?.type).toBe("approve");
  expect(checkpointRequest(c({}), "n", 1)?.type).toBe("reject");
  expect(checkpointRequest(c({}), "", 1)).toBeUndefined();
  expect(checkpointRequest(c({ default: false }), "", 1)?.type).toBe("reject");
  expect(checkpointRequest(c({ default: "go" }), "", 1)).toBeUndefined();
  expect(checkpointRequest(c({ kind: "input", default: "d" }), "", 1)).toMatchObject({ answer: "d" });
  expect(checkpointRequest(c({ kind: "input" }), " two words ", 1)).toMatchObject({ answer: " two words " });
  expect(checkpointRequest(c({ kind: "select", choices: ["a"] }), "", 1)).toBeUndefined();
  expect(checkpointRequest(c({ kind: "select", choices: ["a"] }), " 1 ", 1)).toMatchObject({ answer: "1" });
});

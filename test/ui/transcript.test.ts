/** U08: an agent's transcript is shown as its turns, read back by the driver that wrote it. */
import { describe, expect, test } from "vitest";
import { ClaudeDriver } from "../../dist/drivers/claude.js";
import { transcriptEvents } from "../../dist/ui/transcript.js";

describe("transcript turns", () => {
  test("U08 a claude stream-json transcript becomes text, tool calls and tool results", () => {
    const lines = [
      { type: "system", subtype: "init", session_id: "s1", model: "claude-x" },
      {
        type: "assistant",
        message: {
          content: [
            { type: "text", text: "Looking." },
            { type: "tool_use", id: "t1", name: "Read", input: { file_path: "a.ts" } },
          ],
        },
      },
      {
        type: "user",
        message: { content: [{ type: "tool_result", tool_use_id: "t1", content: "export const a = 1" }] },
      },
      { type: "assistant", message: { content: [{ type: "text", text: "Done." }] } },
      "not json at all",
    ].map((l) => (typeof l === "string" ? l : JSON.stringify(l)));
    const turns = transcriptEvents(lines.join("\n"), new ClaudeDriver({}));
    expect(turns.map((t) => t.type)).toEqual(["text", "tool_call", "tool_result", "text"]);
    expect(turns[1]).toMatchObject({ name: "Read", input: { file_path: "a.ts" } });
    expect(turns[2]).toMatchObject({ output: "export const a = 1" });
  });

  test("U08 the command driver's output chunks join per stream; a failed exit is shown", () => {
    const text = [
      { t: 1, stream: "stdout", data: "hello " },
      { t: 2, stream: "stdout", data: "world\n" },
      { t: 3, stream: "stderr", data: "warn: x\n" },
      { t: 4, exit: 3, signal: null },
    ]
      .map((l) => JSON.stringify(l))
      .join("\n");
    expect(transcriptEvents(text, undefined)).toEqual([
      { type: "text", text: "hello world\n" },
      { type: "stderr", text: "warn: x\n" },
      { type: "error", message: "exited with code 3" },
    ]);
  });
});

import { describe, expect, test } from "vitest";
import { extractJsonObject } from "../../src/engine/extract-json.js";

const found = (value: Record<string, unknown>) => ({ ok: true, value });
const none = { ok: false };

describe("D09 the JSON object of an answer: whole output, else last fenced block, else last balanced {...}", () => {
  test("D09 the whole output, surrounding white space ignored", () => {
    expect(extractJsonObject('  \n{"a": 1, "b": [true, null]}\n\n')).toEqual(
      found({ a: 1, b: [true, null] }),
    );
    expect(extractJsonObject("{}")).toEqual(found({}));
  });

  test("D09 prose then a fenced block", () => {
    const text = 'Here is the result:\n\n```json\n{"verdict": "ok"}\n```\n';
    expect(extractJsonObject(text)).toEqual(found({ verdict: "ok" }));
    expect(extractJsonObject('Result:\n```\n{"a": 2}\n```\nThanks.')).toEqual(found({ a: 2 }));
  });

  test("D09 of two fenced blocks, the last one", () => {
    const text = 'First try:\n```json\n{"n": 1}\n```\nCorrected:\n```json\n{"n": 2}\n```\n';
    expect(extractJsonObject(text)).toEqual(found({ n: 2 }));
  });

  test("D09 fences as CommonMark reads them: tildes, longer fences, an unclosed last block", () => {
    expect(extractJsonObject('x\n~~~json\n{"t": 1}\n~~~\n')).toEqual(found({ t: 1 }));
    // A ``` line inside a ```` block does not close it: the block is the whole object.
    const nested = '````json\n{"code": "```\\nls\\n```"}\n````\nend';
    expect(extractJsonObject(nested)).toEqual(found({ code: "```\nls\n```" }));
    // An answer cut off before its closing fence.
    expect(extractJsonObject('Sure.\n```json\n{"cut": true}\n')).toEqual(found({ cut: true }));
    expect(extractJsonObject('Windows lines\r\n```json\r\n{"crlf": 1}\r\n```\r\n')).toEqual(
      found({ crlf: 1 }),
    );
  });

  test("D09 a last fenced block that is not an object falls through to the last balanced object", () => {
    const text = 'The answer is {"x": 1}.\nTo check it run:\n```sh\nnpm test\n```\n';
    expect(extractJsonObject(text)).toEqual(found({ x: 1 }));
  });

  test("D09 prose with a trailing balanced object", () => {
    expect(extractJsonObject('After reading the code, my answer is {"files": ["a.ts"], "ok": true}')).toEqual(
      found({ files: ["a.ts"], ok: true }),
    );
  });

  test("D09 the last balanced object is the end-most whole one, not one nested in it", () => {
    const text = 'Draft: {"a": 1}. Final: {"outer": {"inner": {"deep": 1}}, "k": 2} -- done {oops';
    expect(extractJsonObject(text)).toEqual(found({ outer: { inner: { deep: 1 } }, k: 2 }));
  });

  test("D09 braces inside JSON strings, with escapes, do not count", () => {
    const text = 'Answer: {"s": "a } b { c", "q": "say \\"}\\" now", "path": "C:\\\\{x}"} end.';
    expect(extractJsonObject(text)).toEqual(found({ s: "a } b { c", q: 'say "}" now', path: "C:\\{x}" }));
  });

  test("D09 stray braces and quotes in the prose around the object", () => {
    expect(extractJsonObject('Use {name} placeholders, e.g. "{x}". Result: {"a": 1} :-}')).toEqual(
      found({ a: 1 }),
    );
    // A quote opened inside a stray brace on an earlier line does not hide the object.
    expect(extractJsonObject('In {this "case\nthe answer is {"b": 2}')).toEqual(found({ b: 2 }));
    // A span that does not parse gives way to an earlier one that does.
    expect(extractJsonObject('{"c": 3} and then {"broken": }')).toEqual(found({ c: 3 }));
  });

  test("D09 arrays and other JSON values are not accepted", () => {
    expect(extractJsonObject("[1, 2]")).toEqual(none);
    expect(extractJsonObject('```json\n["a", "b"]\n```')).toEqual(none);
    expect(extractJsonObject("42")).toEqual(none);
    // A JSON string that holds an object's text is a string.
    expect(extractJsonObject('"{\\"a\\": 1}"')).toEqual(none);
    expect(extractJsonObject("null")).toEqual(none);
  });

  test("D09 no object at all gives ok: false", () => {
    expect(extractJsonObject("")).toEqual(none);
    expect(extractJsonObject("I could not finish the task.")).toEqual(none);
    expect(extractJsonObject("function f() { return 1; }")).toEqual(none);
    expect(extractJsonObject('{"unterminated": ')).toEqual(none);
  });

  test("D09 a megabyte of pathological text returns", () => {
    const mb = 1 << 20;
    const inputs = [
      `${"word } { ".repeat(mb / 9)}{"ok": true}`,
      "} {x ".repeat(mb / 5),
      "}".repeat(mb),
      "{".repeat(mb),
      '{"'.repeat(mb / 2),
      '{"a":'.repeat(mb / 5),
      '{"a": 1, '.repeat(mb / 9),
      `${"{".repeat(mb / 2)}${"}".repeat(mb / 2)}`,
      `${'{"a": '.repeat(mb / 12)}1${"}".repeat(mb / 12)}x`,
      "```\n".repeat(mb / 4),
      `${"a".repeat(mb)}\n`,
    ];
    for (const text of inputs) {
      const r = extractJsonObject(text);
      expect(typeof r.ok).toBe("boolean");
    }
    expect(extractJsonObject(inputs[0]!)).toEqual(found({ ok: true }));
  });
});

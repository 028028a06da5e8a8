/**
 * E03/A03: schema patterns run on RE2 (linear time), translated from ECMAScript so that they match
 * what RegExp with "u" matches; what needs backtracking is refused with a message that says why,
 * before any agent starts.
 */
import { describe, expect, test } from "vitest";
import { PatternError, safePattern, toRe2 } from "../../src/engine/pattern.js";
import { compileSchema, SchemaError } from "../../src/engine/schema.js";

const BOMB = "^(a+)+$";
const bombInput = `${"a".repeat(40)}!`;

describe("E03 a catastrophic-backtracking pattern cannot hang weft", () => {
  test("E03 pattern: ^(a+)+$ against aaaa…! is decided at once", () => {
    const schema = compileSchema({ type: "object", properties: { s: { type: "string", pattern: BOMB } } });
    const t0 = performance.now();
    // 40 a's: RegExp would take on the order of 2^40 steps (hours).
    expect(schema.validate({ s: bombInput })).toEqual({
      ok: false,
      errors: [`/s: must match pattern "${BOMB}"`],
    });
    expect(schema.validate({ s: "a".repeat(100_000) }).ok).toBe(true);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  test("E03 patternProperties: the bomb as a key pattern, with the bomb as a key", () => {
    const schema = compileSchema({
      type: "object",
      patternProperties: { [BOMB]: { type: "number" } },
      additionalProperties: false,
    });
    expect(schema.validate({ aaa: 1 }).ok).toBe(true);
    expect(schema.validate({ [bombInput]: 1 }).ok).toBe(false);
  });

  test("E03 the static contradiction check tests required keys against patterns in linear time too", () => {
    // analyse() matches each required key against each patternProperties pattern.
    const t0 = performance.now();
    compileSchema({
      type: "object",
      required: [bombInput],
      patternProperties: { [BOMB]: { type: "number" } },
    });
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  test("E03 propertyNames patterns run on RE2 as well", () => {
    const schema = compileSchema({ type: "object", propertyNames: { pattern: BOMB } });
    expect(schema.validate({ [bombInput]: 1 }).ok).toBe(false);
    expect(schema.validate({ aaaa: 1 }).ok).toBe(true);
  });

  test("E03 two schemas with different patterns do not share a compiled pattern", () => {
    const a = compileSchema({ type: "object", properties: { s: { type: "string", pattern: "^x$" } } });
    const b = compileSchema({
      type: "object",
      properties: { s: { type: "string", pattern: "^y$" }, t: { type: "string", pattern: "^z$" } },
    });
    expect(a.validate({ s: "x" }).ok).toBe(true);
    expect(b.validate({ s: "y", t: "z" }).ok).toBe(true);
    expect(b.validate({ s: "y", t: "y" }).ok).toBe(false);
  });
});

describe("A03 patterns RE2 cannot run are refused before any agent starts, saying why", () => {
  const refused = (pattern: string) => {
    try {
      compileSchema({ type: "object", properties: { s: { type: "string", pattern } } });
    } catch (e) {
      expect(e).toBeInstanceOf(SchemaError);
      return (e as Error).message;
    }
    throw new Error(`accepted ${pattern}`);
  };

  test.each([
    ["^(?=.*[A-Z]).+$", /lookahead/],
    ["^(?!x)", /lookahead/],
    ["(?<=a)b", /lookbehind/],
    ["(?<!a)b", /lookbehind/],
    ["(a)\\1", /backreference/],
    ["(?<q>a)\\k<q>", /named backreference/],
    ["a{1001}", /over 1000/],
    ["\\p{scx=Greek}", /Unicode property/],
  ])("A03 %s is refused", (pattern, why) => {
    const message = refused(pattern);
    expect(message).toContain(JSON.stringify(pattern));
    expect(message).toMatch(why);
    expect(message).toMatch(/RE2/);
  });

  test("A03 a pattern that is not a regular expression is refused as such", () => {
    expect(refused("[")).toMatch(/not a valid regular expression/);
    expect(() => safePattern("(")).toThrow(PatternError);
  });

  test("A03 the same in patternProperties and in meta.args-style schemas", () => {
    expect(() => compileSchema({ type: "object", patternProperties: { "^(?=x)": {} } })).toThrow(/lookahead/);
  });
});

describe("A03 translated patterns match what RegExp with the u flag matches", () => {
  const patterns = [
    "^\\s+$",
    "^\\S+$",
    "^[\\s\\S]*$",
    "^[^\\s]+$",
    "^a.b$",
    "^[^]$",
    "[]",
    "^\\u0041\\u{1F600}$",
    "^\\uD83D\\uDE00$",
    "^[a-z\\-_]+$",
    "^[^a-z]$",
    "^\\p{Lu}+$",
    "^\\P{Lu}$",
    "^\\p{Script=Greek}+$",
    "^\\p{General_Category=Letter}+$",
    "^\\p{Letter}$",
    "^(?<year>\\d{4})-(?<month>\\d{2})$",
    "^\\cJ$",
    "^[\\b]$",
    "^\\/\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\$",
    "^\\d{2,3}$",
    "^a{2}$",
    "^(foo|bar)+?$",
    "\\bword\\b",
    "\\Bx",
    "^\\w+@\\w+\\.com$",
    "^[\\d\\W]+$",
    "^\\x41\\0$",
    "^\\t\\n\\v\\f\\r$",
    "^.$",
    "ü",
    "^[€-₿]$",
    "^[😀-😂]$",
    "abc$",
    "^$",
  ];
  const inputs = [
    "",
    " ",
    "\t\n",
    "\u00a0",
    "\u2003",
    "\ufeff",
    "\v",
    "\u2028",
    "\r",
    "\n",
    "a\nb",
    "a\rb",
    "axb",
    "x",
    "A",
    "Z",
    "AB",
    "é",
    "É",
    "αβγ",
    "A😀",
    "😀",
    "😁",
    "😃",
    "ab-_z",
    "2024-05",
    "\n",
    "\b",
    "/.*+?()[]{}|^$\\",
    "12",
    "1234",
    "aa",
    "foobar",
    "a word here",
    "awordb",
    "xx",
    "bob@site.com",
    "1!2",
    "A\0",
    "\t\n\v\f\r",
    "ü",
    "€",
    "₿",
    "abc\n",
    "abc",
    "\ud800",
  ];
  test.each(patterns)("A03 %s", (pattern) => {
    const native = new RegExp(pattern, "u");
    const re2 = safePattern(pattern);
    const differ = inputs.filter((s) => native.test(s) !== re2.test(s));
    expect(differ, `${pattern} -> ${toRe2(pattern)}`).toEqual([]);
  });
});

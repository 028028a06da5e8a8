/**
 * JSON Schema `pattern`s without catastrophic backtracking (SPEC A03, E03). A schema comes from a
 * script a model may have written; with a backtracking engine a pattern such as `^(a+)+$` against
 * "aaaa…!" keeps the main thread busy for ever, and with it Ctrl-C, SIGTERM and `weft stop`.
 * So every pattern weft matches runs on RE2 (re2js: pure JavaScript, linear in the input).
 *
 * JSON Schema patterns are ECMAScript regular expressions, and ajv compiles them with the "u"
 * flag; RE2's syntax differs in places, so each pattern is translated: the escapes RE2 spells
 * otherwise (`\uXXXX`, `\u{...}`, `\cX`, `\0`, `\v`), the classes whose meaning differs (`\s`
 * and `\S` are Unicode white space in ECMAScript, ASCII in RE2; `.` stops at \r, U+2028 and
 * U+2029 too), `[^]` and `[]`, and Unicode property names. What needs backtracking by its nature
 * (lookahead, lookbehind, backreferences) is refused with a message that says so, as are the
 * few things RE2 cannot express (repeat counts over 1000, binary Unicode properties).
 */
import { createRequire } from "node:module";
import type { RE2JS as RE2JSClass } from "re2js";

export class PatternError extends Error {
  override name = "PatternError";
}

/** What ajv needs of a compiled pattern (its `code.regExp` engine returns one). */
export interface PatternTester {
  test(s: string): boolean;
}

// Loaded on first use, as ajv is: most runs have no schema with a pattern.
const requireCjs = createRequire(import.meta.url);
let engine: typeof RE2JSClass | undefined;
function re2(): typeof RE2JSClass {
  engine ??= (requireCjs("re2js") as { RE2JS: typeof RE2JSClass }).RE2JS;
  return engine;
}

const compiled = new Map<string, PatternTester>();
const MAX_CACHED = 1024;

/**
 * The pattern compiled for linear-time matching; throws a PatternError naming the pattern and
 * why it cannot be used. Cached by pattern (many schemas share their patterns).
 */
export function safePattern(pattern: string): PatternTester {
  const hit = compiled.get(pattern);
  if (hit) return hit;
  const translated = toRe2(pattern);
  let re: RE2JSClass;
  try {
    re = re2().compile(translated);
  } catch (e) {
    throw refusal(pattern, (e as Error).message.replace(/^error parsing regexp: /, ""));
  }
  const tester: PatternTester = { test: (s) => re.test(s) };
  if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string);
  compiled.set(pattern, tester);
  return tester;
}

function refusal(pattern: string, why: string): PatternError {
  return new PatternError(
    `pattern ${JSON.stringify(pattern)} cannot be used: ${why} (weft matches schema patterns with RE2, in time linear in the input, so that no pattern can hang a run)`,
  );
}

// ---------------------------------------------------------------------------------------------
// ECMAScript ("u" flag) to RE2 syntax.

/** ECMAScript's white space and line terminators (`\s`), as code point ranges. */
const WHITE_SPACE: [number, number][] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
const LINE_TERMINATORS: [number, number][] = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
];
const MAX_CP = 0x10ffff;

const hex = (cp: number) => `\\x{${cp.toString(16)}}`;
const ranges = (rs: [number, number][]) =>
  rs.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join("");
function complement(rs: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  let next = 0;
  for (const [a, b] of rs) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}
const NOT_WHITE_SPACE = complement(WHITE_SPACE);

/** General categories by their long names (RE2 knows the short ones). */
const CATEGORIES: Record<string, string> = {
  Letter: "L",
  Cased_Letter: "LC",
  Uppercase_Letter: "Lu",
  Lowercase_Letter: "Ll",
  Titlecase_Letter: "Lt",
  Modifier_Letter: "Lm",
  Other_Letter: "Lo",
  Mark: "M",
  Combining_Mark: "M",
  Nonspacing_Mark: "Mn",
  Spacing_Mark: "Mc",
  Enclosing_Mark: "Me",
  Number: "N",
  Decimal_Number: "Nd",
  digit: "Nd",
  Letter_Number: "Nl",
  Other_Number: "No",
  Punctuation: "P",
  punct: "P",
  Connector_Punctuation: "Pc",
  Dash_Punctuation: "Pd",
  Open_Punctuation: "Ps",
  Close_Punctuation: "Pe",
  Initial_Punctuation: "Pi",
  Final_Punctuation: "Pf",
  Other_Punctuation: "Po",
  Symbol: "S",
  Math_Symbol: "Sm",
  Currency_Symbol: "Sc",
  Modifier_Symbol: "Sk",
  Other_Symbol: "So",
  Separator: "Z",
  Space_Separator: "Zs",
  Line_Separator: "Zl",
  Paragraph_Separator: "Zp",
  Other: "C",
  Control: "Cc",
  cntrl: "Cc",
  Format: "Cf",
  Surrogate: "Cs",
  Private_Use: "Co",
  Unassigned: "Cn",
};

/** Translates an ECMAScript pattern (as ajv compiles it, with "u") to RE2 syntax, or refuses it. */
export function toRe2(pattern: string): string {
  try {
    // The grammar of the "u" flag is strict (no Annex B leniency), which the walk below relies on.
    new RegExp(pattern, "u");
  } catch (e) {
    throw new PatternError(
      `pattern ${JSON.stringify(pattern)} is not a valid regular expression: ${(e as Error).message}`,
    );
  }
  return new Translator(pattern).run();
}

/** One element of a character class: a single code point (it may be a range's end) or a set. */
type ClassAtom = { cp: number } | { set: string };

class Translator {
  private i = 0;
  constructor(private readonly p: string) {}

  run(): string {
    let out = "";
    while (this.i < this.p.length) out += this.term();
    return out;
  }

  private fail(why: string): never {
    throw refusal(this.p, why);
  }

  private peek(offset = 0): string {
    return this.p[this.i + offset] ?? "";
  }

  /** The code point at the cursor, consumed. */
  private codePoint(): number {
    const cp = this.p.codePointAt(this.i) as number;
    this.i += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private term(): string {
    const c = this.peek();
    switch (c) {
      case "\\":
        this.i++;
        return this.escape(false);
      case "[":
        return this.charClass();
      case "(":
        return this.group();
      case ".":
        this.i++;
        return `[^${ranges(LINE_TERMINATORS)}]`;
      case "^":
      case "$":
      case "|":
      case ")":
      case "*":
      case "+":
      case "?":
        this.i++;
        return c;
      case "{": {
        // A quantifier (a lone brace is a syntax error with "u"); RE2 allows counts up to 1000.
        const end = this.p.indexOf("}", this.i);
        const body = this.p.slice(this.i, end + 1);
        this.i = end + 1;
        for (const n of body.slice(1, -1).split(",")) {
          if (n !== "" && Number(n) > 1000)
            this.fail(`the repeat count in ${body} is over 1000, RE2's limit`);
        }
        return body;
      }
      default:
        return literal(this.codePoint());
    }
  }

  private group(): string {
    this.i++;
    const rest = this.p.slice(this.i, this.i + 3);
    if (rest.startsWith("?=") || rest.startsWith("?!")) {
      this.fail(`lookahead "(${rest.slice(0, 2)}" needs a backtracking regex engine`);
    }
    if (rest.startsWith("?<=") || rest.startsWith("?<!")) {
      this.fail(`lookbehind "(${rest}" needs a backtracking regex engine`);
    }
    if (rest.startsWith("?:")) {
      this.i += 2;
      return "(?:";
    }
    if (rest.startsWith("?<")) {
      const end = this.p.indexOf(">", this.i);
      const name = this.p.slice(this.i + 2, end);
      this.i = end + 1;
      // RE2 group names are word characters; ECMAScript allows any identifier.
      return /^\w+$/.test(name) ? `(?P<${name}>` : "(";
    }
    return "(";
  }

  private escape(inClass: boolean): string {
    const c = this.peek();
    this.i++;
    switch (c) {
      case "d":
      case "D":
      case "w":
      case "W":
        return `\\${c}`;
      case "s":
        return inClass ? ranges(WHITE_SPACE) : `[${ranges(WHITE_SPACE)}]`;
      case "S":
        return inClass ? ranges(NOT_WHITE_SPACE) : `[^${ranges(WHITE_SPACE)}]`;
      case "b":
        return inClass ? hex(8) : "\\b";
      case "B":
        return "\\B";
      case "t":
        return hex(9);
      case "n":
        return hex(10);
      case "v":
        return hex(11);
      case "f":
        return hex(12);
      case "r":
        return hex(13);
      case "0":
        return hex(0);
      case "c":
        return hex((this.p.charCodeAt(this.i++) as number) % 32);
      case "x": {
        const cp = Number.parseInt(this.p.slice(this.i, this.i + 2), 16);
        this.i += 2;
        return hex(cp);
      }
      case "u":
        return hex(this.unicodeEscape());
      case "p":
      case "P":
        return this.property(c === "P", inClass);
      case "k":
        return this.fail("a named backreference (\\k<...>) needs a backtracking regex engine");
      default:
        if (c >= "1" && c <= "9") this.fail(`a backreference (\\${c}) needs a backtracking regex engine`);
        // A syntax character or "/" (or "-" in a class): the only other escapes "u" allows.
        return literal(c.codePointAt(0) as number);
    }
  }

  /** After `\u`: `XXXX`, a surrogate pair `XXXX\uXXXX` (one code point with "u"), or `{X…}`. */
  private unicodeEscape(): number {
    if (this.peek() === "{") {
      const end = this.p.indexOf("}", this.i);
      const cp = Number.parseInt(this.p.slice(this.i + 1, end), 16);
      this.i = end + 1;
      return cp;
    }
    const unit = Number.parseInt(this.p.slice(this.i, this.i + 4), 16);
    this.i += 4;
    if (unit >= 0xd800 && unit <= 0xdbff && this.p.slice(this.i, this.i + 2) === "\\u") {
      const low = Number.parseInt(this.p.slice(this.i + 2, this.i + 6), 16);
      if (low >= 0xdc00 && low <= 0xdfff) {
        this.i += 6;
        return (unit - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000;
      }
    }
    return unit;
  }

  private property(negated: boolean, inClass: boolean): string {
    const end = this.p.indexOf("}", this.i);
    const body = this.p.slice(this.i + 1, end);
    this.i = end + 1;
    const [key, value] = body.includes("=") ? body.split("=") : [undefined, body];
    let name: string | undefined;
    if (key === "General_Category" || key === "gc" || key === undefined) {
      name = CATEGORIES[value as string] ?? value;
    } else if (key === "Script" || key === "sc") {
      name = value;
    }
    const spelled = `\\${negated ? "P" : "p"}{${body}}`;
    if (name === "Any")
      return negated
        ? this.fail(`${spelled} matches nothing`)
        : inClass
          ? ranges([[0, MAX_CP]])
          : `[${ranges([[0, MAX_CP]])}]`;
    if (name === "ASCII") {
      const set = ranges(negated ? [[0x80, MAX_CP]] : [[0, 0x7f]]);
      return inClass ? set : `[${set}]`;
    }
    const out = `\\${negated ? "P" : "p"}{${name}}`;
    try {
      if (name === undefined) throw new Error();
      re2().compile(out);
    } catch {
      this.fail(
        `the Unicode property ${spelled} is not one RE2 knows (it has general categories and scripts)`,
      );
    }
    return out;
  }

  private charClass(): string {
    this.i++;
    const negated = this.peek() === "^";
    if (negated) this.i++;
    const parts: string[] = [];
    while (this.peek() !== "]") {
      const atom = this.classAtom();
      // A range: two single code points around "-" (with "u", a class escape cannot end a range).
      if ("cp" in atom && this.peek() === "-" && this.peek(1) !== "]") {
        this.i++;
        const to = this.classAtom();
        parts.push("cp" in to ? `${hex(atom.cp)}-${hex(to.cp)}` : `${hex(atom.cp)}${hex(0x2d)}${to.set}`);
        continue;
      }
      parts.push("cp" in atom ? hex(atom.cp) : atom.set);
    }
    this.i++;
    if (parts.length === 0) {
      // `[]` matches nothing and `[^]` anything; RE2 has no empty class.
      return negated ? `[${ranges([[0, MAX_CP]])}]` : `[^${ranges([[0, MAX_CP]])}]`;
    }
    return `[${negated ? "^" : ""}${parts.join("")}]`;
  }

  private classAtom(): ClassAtom {
    if (this.peek() === "\\") {
      this.i++;
      const text = this.escape(true);
      // A single code point (spelled \x{...} by escape) can be a range's end; a set cannot.
      const single = /^\\x\{([0-9a-f]+)\}$/.exec(text);
      return single ? { cp: Number.parseInt(single[1] as string, 16) } : { set: text };
    }
    return { cp: this.codePoint() };
  }
}

/** A literal code point: ASCII letters, digits and space as they are, anything else as \x{...}. */
function literal(cp: number): string {
  return /[A-Za-z0-9 _]/.test(String.fromCodePoint(cp)) ? String.fromCodePoint(cp) : hex(cp);
}

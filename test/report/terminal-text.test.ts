/** C09: what weft prints of a script's or an agent's text carries no terminal controls. */
import { describe, expect, test } from "vitest";
import { forTerminal, forTerminalLine, jsonForTerminal } from "../../src/report/terminal-text.js";

/** Any character a terminal acts on, other than LF and TAB. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

describe("terminal text", () => {
  test("C09 clean text is returned as it is", () => {
    const s = "fix src/a.ts: 3 tests, ünïcödé, עברית, 中文 and\ttabs";
    expect(forTerminal(s)).toBe(s);
    expect(forTerminal("two\nlines")).toBe("two\nlines");
    expect(forTerminalLine("plain label")).toBe("plain label");
  });

  test("C09 an OSC 52 clipboard write, a screen clear and colours are removed whole", () => {
    expect(forTerminal("a\x1b]52;c;ZXZpbA==\x07b")).toBe("ab");
    expect(forTerminal("a\x1b]52;c;ZXZpbA==\x1b\\b")).toBe("ab");
    expect(forTerminal("a\x9d52;c;ZXZpbA==\x9cb")).toBe("ab");
    expect(forTerminal("\x1b[2J\x1b[Hhello")).toBe("hello");
    expect(forTerminal("\x1b[1;32mok\x1b[0m")).toBe("ok");
    expect(forTerminal("x\x9b2Jy")).toBe("xy");
    expect(forTerminal("\x1b]8;;https://evil.example\x07click\x1b]8;;\x07")).toBe("click");
    expect(forTerminal("\x1b(Bx\x1b=y\x1b7z")).toBe("xyz");
  });

  test("C09 other control characters are shown as visible escapes", () => {
    expect(forTerminal("done\rFAKE")).toBe("done\\rFAKE");
    expect(forTerminal("a\x08\x08b\x7fc\x85d")).toBe("a\\x08\\x08b\\x7fc\\x85d");
    expect(forTerminal("bell\x07")).toBe("bell\\x07");
    // An introducer with no end: shown, and what followed it stays text.
    expect(forTerminal("\x1b]52;c;ZXZpbA==")).toBe("\\x1b]52;c;ZXZpbA==");
    expect(forTerminal("\x1b[")).toBe("\\x1b[");
    expect(forTerminal("\x1b")).toBe("\\x1b");
    expect(forTerminal("\x9b")).toBe("\\x9b");
    // A sequence pieced together from what is left after the first pass is still shown, not obeyed.
    expect(forTerminal("\x1b\x1b[0m[2J")).toBe("\\x1b[2J");
  });

  test("C09 blocks keep newlines, tabs and CRLF; one-line fields escape them", () => {
    expect(forTerminal("a\r\nb\n\tc")).toBe("a\nb\n\tc");
    expect(forTerminalLine("a\r\nb\n\tc")).toBe("a\\r\\nb\\n\\tc");
    expect(forTerminalLine("label\x1b[2Jx")).toBe("labelx");
  });

  test("C09 bidi overrides and isolates are escaped, right-to-left letters are not", () => {
    expect(forTerminalLine("invoice\u202Efdp.exe")).toBe("invoice\\u202efdp.exe");
    expect(forTerminal("\u2066x\u2069")).toBe("\\u2066x\\u2069");
    expect(forTerminal("שלום \u200F")).toBe("שלום \u200F");
  });

  test("C09 pretty JSON loses DEL, C1 and bidi controls too (JSON.stringify escapes only C0)", () => {
    const shown = jsonForTerminal({ text: "a\x9b2Jb\x7f\u202e\x1b]52;c;x\x07" });
    expect(shown).not.toMatch(CONTROL);
    expect(shown).toContain('"text": "a');
  });

  test("C09 nothing a terminal acts on survives, whatever the input", () => {
    // Every control and bidi character, alone and around introducers, in many orders.
    const pool = [
      ..."\x1b\x9b\x9d\x9c\x90\x07[]P^_X\\;0123?@Jm~ \n\r\t",
      ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)),
      ...Array.from({ length: 0x21 }, (_, i) => String.fromCharCode(0x7f + i)),
      "\u202a",
      "\u202e",
      "\u2066",
      "\u2069",
    ];
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 3000; i++) {
      let s = "";
      for (let j = 0; j < 12; j++) s += pool[Math.floor(rnd() * pool.length)];
      expect(forTerminal(s)).not.toMatch(CONTROL);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point.
      expect(forTerminalLine(s)).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    }
  });

  test("C09 hostile input takes linear time (no backtracking blow-up)", () => {
    const n = 200_000;
    const inputs = [
      `\x1b]${"a\x9d".repeat(n)}`,
      `\x1b[${"1".repeat(n)}\n`,
      "\x1b[1".repeat(n),
      "\x1b]".repeat(n),
      `\x1b${" ".repeat(n)}`,
    ];
    const t0 = performance.now();
    for (const s of inputs) {
      expect(forTerminal(s)).not.toMatch(CONTROL);
      forTerminalLine(s);
    }
    // Quadratic work on these would take minutes; linear takes milliseconds.
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});

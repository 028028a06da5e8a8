import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { positionOf, ScriptError } from "../../src/script/errors.js";
import { loadScriptFile, loadScriptSource, SCRIPT_PREFIX, SCRIPT_SUFFIX } from "../../src/script/load.js";

/** The formatted error for a script that must be refused. */
async function fails(source: string, file = "w.js"): Promise<string> {
  try {
    await loadScriptSource(source, file, /\.[cm]?ts$/.test(file));
  } catch (e) {
    expect(e).toBeInstanceOf(ScriptError);
    return (e as ScriptError).format();
  }
  throw new Error("expected a ScriptError");
}

/** Writes `files` into a fresh directory and returns it. */
function fixtures(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "weft-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const head = 'export const meta = { name: "n", description: "d" }\n';

describe("meta (S01)", () => {
  test("S01 meta is read as JSON from the literal, phases, args and unknown keys included", async () => {
    const dir = fixtures({
      "wf.js": `export const meta = {
  name: "audit", 'description': \`plain template\`, whenToUse: "often", n: -1.5, ok: true, none: null,
  1: "one", nested: { list: [1, "two", [false]] },
  phases: [{ title: "Find", detail: "look" }, { title: "Fix", model: "m" }],
  args: { type: "object", properties: { dir: { type: "string" } }, required: ["dir"] },
}
return meta.name
`,
    });
    const s = await loadScriptFile("wf.js", dir);
    expect(s.meta).toEqual({
      name: "audit",
      description: "plain template",
      whenToUse: "often",
      n: -1.5,
      ok: true,
      none: null,
      1: "one",
      nested: { list: [1, "two", [false]] },
      phases: [
        { title: "Find", detail: "look" },
        { title: "Fix", model: "m" },
      ],
      args: { type: "object", properties: { dir: { type: "string" } }, required: ["dir"] },
    });
    expect(s.displayPath).toBe("wf.js");
    expect(s.absPath).toBe(join(dir, "wf.js"));
    expect(s.isTs).toBe(false);
    // `export` is blanked with spaces: positions are unchanged and `meta` stays declared.
    expect(s.code.length).toBe(s.source.length);
    expect(s.code.startsWith("       const meta = {")).toBe(true);
    expect(s.code.slice(7)).toBe(s.source.slice(7));
  });

  test("S01 every non-literal form is refused at its position, saying meta must be a literal", async () => {
    const cases: [string, string][] = [
      ['export const meta = { name: "n", description: d }', "w.js:1:47: MetaError: the identifier `d`"],
      [
        'export const meta = { name: "n", description: undefined }',
        "w.js:1:47: MetaError: the identifier `undefined`",
      ],
      ['export const meta = { name: "n", description: f() }', "w.js:1:47: MetaError: a call"],
      ['export const meta = { name: "n", description: new S() }', "w.js:1:47: MetaError: a `new` expression"],
      ['export const meta = { name: "n", description: () => 1 }', "w.js:1:47: MetaError: a function"],
      ['export const meta = { ...x, name: "n", description: "d" }', "w.js:1:23: MetaError: a spread"],
      ['export const meta = { ["name"]: "n", description: "d" }', "w.js:1:24: MetaError: a computed key"],
      [
        'export const meta = { name, description: "d" }',
        "w.js:1:23: MetaError: the shorthand property `name`",
      ],
      [
        `export const meta = { name: "n", description: \`a\${x}b\` }`,
        "w.js:1:51: MetaError: an interpolated template",
      ],
      [
        'export const meta = { name: "n", description: "d", get x() { return 1 } }',
        "w.js:1:52: MetaError: a method",
      ],
      ['export const meta = { name: "n", description: "d", f() {} }', "w.js:1:52: MetaError: a method"],
      [
        'export const meta = { name: "n", description: "d", list: [1, ...a] }',
        "w.js:1:62: MetaError: a spread",
      ],
      ['export const meta = { name: "n", description: "d", list: [1, , 2] }', "w.js:1:58: MetaError: a hole"],
      ['export const meta = { name: "n", description: "d", n: +1 }', "w.js:1:55: MetaError: an operator"],
      [
        'export const meta = { name: "n", description: "d", n: 1e999 }',
        "w.js:1:55: MetaError: a number JSON",
      ],
      [
        'export const meta = { name: "n", description: "d", r: /x/ }',
        "w.js:1:55: MetaError: a regular expression",
      ],
      [
        'export const meta = { name: "n", description: "d", __proto__: {} }',
        "w.js:1:52: MetaError: a `__proto__`",
      ],
    ];
    for (const [src, expected] of cases) {
      const shown = await fails(`${src}\n`);
      expect(shown).toContain(expected);
      expect(shown).toContain("meta must be a literal");
    }
  });

  test("S01 a refused value on a later line points at that line", async () => {
    const src = 'export const meta = {\n  name: "n",\n  description: "d",\n  phases: [{ title: t }],\n}\n';
    expect(await fails(src)).toBe(
      "w.js:4:21: MetaError: the identifier `t` is not allowed; meta must be a literal: no identifiers, calls, spreads, computed keys or interpolated templates",
    );
  });

  test("S01 the required keys and the shapes of the optional ones are checked where they are", async () => {
    const cases: [string, string][] = [
      ['export const meta = { name: "n" }', "w.js:1:21: MetaError: meta.description is required"],
      ['export const meta = { description: "d" }', "w.js:1:21: MetaError: meta.name is required"],
      [
        'export const meta = { name: "", description: "d" }',
        "w.js:1:29: MetaError: meta.name must be a non-empty string",
      ],
      [
        'export const meta = { name: 3, description: "d" }',
        "w.js:1:29: MetaError: meta.name must be a non-empty string",
      ],
      [
        'export const meta = { name: "n", description: "d", whenToUse: 1 }',
        "w.js:1:63: MetaError: meta.whenToUse",
      ],
      [
        'export const meta = { name: "n", description: "d", phases: {} }',
        "w.js:1:60: MetaError: meta.phases must be a list",
      ],
      [
        'export const meta = { name: "n", description: "d", phases: ["x"] }',
        "w.js:1:61: MetaError: meta.phases.0 must be an object",
      ],
      [
        'export const meta = { name: "n", description: "d", phases: [{ title: "a" }, { detail: "x" }] }',
        "w.js:1:77: MetaError: meta.phases.1.title is required",
      ],
      [
        'export const meta = { name: "n", description: "d", phases: [{ title: "a", model: 5 }] }',
        "w.js:1:82: MetaError: meta.phases.0.model must be a non-empty string",
      ],
      [
        'export const meta = { name: "n", description: "d", args: [] }',
        "w.js:1:58: MetaError: meta.args must be an object",
      ],
    ];
    for (const [src, expected] of cases) expect(await fails(`${src}\n`)).toContain(expected);
  });

  test("S01 meta must be the first statement, a const, and an object", async () => {
    expect(await fails("")).toBe(
      "w.js:1:1: MetaError: the first statement must be `export const meta = { name, description, ... }`",
    );
    expect(await fails("return 1\n")).toContain("w.js:1:1: MetaError: the first statement must be");
    expect(await fails(`const x = 1\n${head}`)).toBe(
      "w.js:1:1: MetaError: `export const meta = {...}` must be the first statement of the script",
    );
    // Leading comments are no statement; the error points at the first one there is.
    expect(await fails(`// a workflow\n\n  let x = 1\n${head}`)).toContain(
      "w.js:3:3: MetaError: `export const meta",
    );
    expect(await fails('export let meta = { name: "n", description: "d" }\n')).toContain(
      "w.js:1:1: MetaError: the first statement must be",
    );
    expect(await fails('export const meta = { name: "n", description: "d" }, x = 1\n')).toContain(
      "w.js:1:1: MetaError: the first statement must be",
    );
    expect(await fails('export const meta = ["n"]\n')).toContain(
      "w.js:1:21: MetaError: meta must be an object literal",
    );
    // A comment before meta is fine.
    await expect(loadScriptSource(`/** header */\n${head}`, "w.js", false)).resolves.toBeDefined();
  });
});

describe("forbidden syntax (S03)", () => {
  test("S03 an import before meta is reported as an import that is not allowed, at its line, not as a misplaced meta", async () => {
    const msg = await fails(`import { readFileSync } from "node:fs"\n${head}return 1\n`);
    expect(msg).toContain("w.js:1:1: ForbiddenSyntax: import is not allowed in a workflow script");
    expect(msg).not.toContain("first statement");
    // In a .ts file too (a type-only import is stripped, a value import is not), positions from the source.
    const ts = await fails(`// header\nimport type { X } from "y"\nimport z from "z"\n${head}`, "w.ts");
    expect(ts).toContain("w.ts:3:1: ForbiddenSyntax: import is not allowed in a workflow script");
  });

  test("S03 import declarations, import() and import.meta are refused where they are", async () => {
    expect(await fails(`${head}import x from "y"\n`)).toContain(
      "w.js:2:1: ForbiddenSyntax: import is not allowed in a workflow script",
    );
    expect(await fails(`${head}import "y"\n`)).toContain(
      "w.js:2:1: ForbiddenSyntax: import is not allowed in a workflow script",
    );
    expect(await fails(`${head}const m = () => import("y")\n`)).toContain(
      "w.js:2:17: ForbiddenSyntax: import() is not available",
    );
    expect(await fails(`${head}if (a) {\n  log(import.meta.url)\n}\n`)).toContain(
      "w.js:3:7: ForbiddenSyntax: import.meta is not available",
    );
  });

  test("S03 calls to require are refused at the call, even nested", async () => {
    expect(await fails(`${head}function f() { return require("fs") }\n`)).toBe(
      "w.js:2:23: ForbiddenSyntax: require is not available in workflow scripts: the script has no Node API; ask an agent to do the work",
    );
    expect(await fails(`${head}const a = [1].map(() => ({ x: require?.("x") }))\n`)).toContain(
      "w.js:2:31: ForbiddenSyntax: require is not available",
    );
    // A property or method named require is not the global require.
    await expect(
      loadScriptSource(`${head}const o = { require() {} }\no.require()\n`, "w.js", false),
    ).resolves.toBeDefined();
  });

  test("S03 every export but meta is refused", async () => {
    expect(await fails(`${head}export default 1\n`)).toBe(
      "w.js:2:1: ForbiddenSyntax: only `export const meta` may be exported from a workflow script",
    );
    expect(await fails(`${head}\nexport const other = 1\n`)).toContain(
      "w.js:3:1: ForbiddenSyntax: only `export const meta`",
    );
    expect(await fails(`${head}export * from "x"\n`)).toContain("w.js:2:1: ForbiddenSyntax");
    expect(await fails(`${head}const a = 1\nexport { a }\n`)).toContain("w.js:3:1: ForbiddenSyntax");
  });

  test("S03 HTML-like comments that would change what the wrapped body means are refused", async () => {
    // As a module this is `a < !--b` and a block comment; as the classic script it runs in, `<!--`
    // comments out the rest of the line and the next line would close the wrapper function.
    const breakout = `${head}x = a <!--b/*\n}); globalThis.out = 1; (async function(){ /*\n*/\n`;
    expect(await fails(breakout)).toBe(
      "w.js:2:7: ForbiddenSyntax: HTML-like comments (`<!--`, `-->`) are not allowed",
    );
    expect(await fails(`${head}\nx = a <!--b\n`)).toContain("w.js:3:7: ForbiddenSyntax: HTML-like comments");
  });

  test("S03 the code the runtime wraps is a single function body with the script's positions", async () => {
    const s = await loadScriptSource(`#!/usr/bin/env weft\n${head}return await 1\n`, "w.js", false);
    expect(s.code.startsWith(" ".repeat("#!/usr/bin/env weft".length))).toBe(true);
    expect(s.code.length).toBe(s.source.length);
    const fn = new Function(`return ${SCRIPT_PREFIX}${s.code}${SCRIPT_SUFFIX}`)();
    expect(await fn()).toBe(1);
  });
});

describe("TypeScript (S04)", () => {
  test("S04 a .ts script with interfaces, annotations and generics loads with every position kept", async () => {
    const src = `import type { Meta } from "weftkit/workflow"
export const meta: Meta = { name: "n", description: "d" } as const
interface A<T> { a: T }
type B = A<string>
const x: B = { a: "1" } as B
function f<T>(v: T): T { return v }
return f<number>(x.a.length)!
`;
    const dir = fixtures({ "x.ts": src, "y.mts": src });
    const s = await loadScriptFile("x.ts", dir);
    expect(s.isTs).toBe(true);
    expect((await loadScriptFile("y.mts", dir)).isTs).toBe(true);
    expect(s.meta).toEqual({ name: "n", description: "d" });
    expect(s.code.length).toBe(src.length);
    expect(s.code.split("\n").length).toBe(src.split("\n").length);
    expect(s.code).not.toMatch(/interface|<T>|: B|as const|import/);
    // Every token that survives is where it was in the original.
    for (const word of ["const meta", "const x", "function f", "return f"]) {
      expect(s.code.indexOf(word)).toBe(src.indexOf(word));
    }
    const fn = new Function(`return ${SCRIPT_PREFIX}${s.code}${SCRIPT_SUFFIX}`)();
    expect(await fn()).toBe(1);
  });

  test("S04 a syntax error after type-only lines points into the original file", async () => {
    expect(
      await fails(`${head}type T = number\ninterface I { a: T }\nconst a: T = 1\n  const = 2\n`, "w.ts"),
    ).toMatch(/^w\.ts:5:9: SyntaxError: \S/);
    // A broken annotation would blank into valid JavaScript; TypeScript's parser catches it.
    expect(await fails(`${head}\nlet x: = 1\n`, "w.ts")).toBe("w.ts:3:8: SyntaxError: Type expected.");
    // The meta and S03 checks run on the stripped code, with the original positions.
    expect(await fails(`${head}const a: Array<string> = []; const b = require("x")\n`, "w.ts")).toContain(
      "w.ts:2:40: ForbiddenSyntax: require",
    );
    expect(
      await fails('export const meta: { name: string } = { name: n, description: "d" }\n', "w.ts"),
    ).toContain("w.ts:1:47: MetaError: the identifier `n`");
  });

  test("S04 TypeScript with run-time meaning is refused at the node, past leading comments", async () => {
    expect(await fails(`${head}// colours\n/* all of them */ enum Color { Red }\n`, "w.ts")).toMatch(
      /^w\.ts:3:19: UnsupportedTypeScript: an enum has run-time meaning/,
    );
    expect(await fails(`${head}namespace N { export const a = 1 }\n`, "w.ts")).toContain(
      "w.ts:2:1: UnsupportedTypeScript: a namespace",
    );
    expect(await fails(`${head}class P {\n  constructor(private x: number) {}\n}\n`, "w.ts")).toContain(
      "w.ts:3:15: UnsupportedTypeScript: a parameter property",
    );
    expect(await fails(`${head}const n = <number>m\n`, "w.ts")).toContain(
      "w.ts:2:11: UnsupportedTypeScript: a `<T>value` cast",
    );
    expect(await fails(`${head}import fs = require("fs")\n`, "w.ts")).toContain(
      "w.ts:2:1: ForbiddenSyntax: `import",
    );
    // Type-only declarations have no run-time meaning and are simply blanked.
    await expect(
      loadScriptSource(
        `${head}declare enum E { A }\ndeclare namespace Q { const a: number }\n`,
        "w.ts",
        true,
      ),
    ).resolves.toBeDefined();
  });
});

describe("a script in a Markdown code fence", () => {
  test("CC a script wrapped whole in one code fence is unwrapped with a warning, positions kept; prose or a second fence is not", async () => {
    const body = "const x = 1\nreturn x\n";
    const s = await loadScriptSource(`\n\`\`\`js\n${head}${body}\`\`\`\n`, "w.js", false);
    expect(s.warnings?.[0]).toMatch(
      /^w\.js: the script is wrapped in a Markdown code fence \(```js\); weft ran what is inside it/,
    );
    expect(s.meta.name).toBe("n");
    // The original text is kept as the source; the code has the fence lines blanked, line for line.
    expect(s.source.startsWith("\n```js")).toBe(true);
    expect(s.code.split("\n")).toHaveLength(s.source.split("\n").length);
    // An error inside points at its line in the fenced file.
    expect(await fails(`\`\`\`\n${head}const = 2\n\`\`\`\n`)).toMatch(/^w\.js:3:7: SyntaxError/);
    // ```ts marks TypeScript.
    const ts = await loadScriptSource(`~~~~ts\n${head}const n: number = 1\nreturn n\n~~~~\n`, "w.js", false);
    expect(ts.isTs).toBe(true);
    expect(await fails(`Here is the script:\n\`\`\`js\n${head}\`\`\`\n`)).toMatch(/SyntaxError|MetaError/);
    expect(await fails(`\`\`\`js\n${head}\`\`\`\n\`\`\`js\nreturn 1\n\`\`\`\n`)).toMatch(
      /SyntaxError|MetaError/,
    );
    const plain = await loadScriptSource(head + body, "w.js", false);
    expect(plain.warnings).toBeUndefined();
  });
});

describe("errors (E01)", () => {
  test("E01 format() is path-as-given:line:col: Kind: message, columns from 1", async () => {
    const dir = fixtures({});
    writeFileSync(join(dir, "x.js"), `${head}let a = ;\n`);
    const e = await loadScriptFile("./x.js", dir).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ScriptError);
    const err = e as ScriptError;
    expect([err.file, err.line, err.col, err.kind, err.message]).toEqual([
      "./x.js",
      2,
      9,
      "SyntaxError",
      "Unexpected token",
    ]);
    expect(err.format()).toBe("./x.js:2:9: SyntaxError: Unexpected token");
    expect(new ScriptError("./wf/x.ts", 3, 7, "MetaError", "bad").format()).toBe(
      "./wf/x.ts:3:7: MetaError: bad",
    );
  });

  test("E01 a .ts error shows the path as given and the original position", async () => {
    const dir = fixtures({});
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(dir, "wf"));
    writeFileSync(join(dir, "wf", "x.ts"), `${head}const a: number = 1\nconst b: string = import("x")\n`);
    const e = (await loadScriptFile("./wf/x.ts", dir).catch((err: unknown) => err)) as ScriptError;
    expect(e.format()).toBe(
      "./wf/x.ts:3:19: ForbiddenSyntax: import() is not available in workflow scripts: the script runs in a sandbox without modules; ask an agent to do the work",
    );
  });

  test("E01 a script that cannot be read is a clear ScriptError naming the path", async () => {
    const dir = fixtures({});
    const e = (await loadScriptFile("./wf/missing.js", dir).catch((err: unknown) => err)) as ScriptError;
    expect(e).toBeInstanceOf(ScriptError);
    expect(e.format()).toBe("cannot read script ./wf/missing.js: no such file");
    const d = (await loadScriptFile(".", dir).catch((err: unknown) => err)) as ScriptError;
    expect(d.format()).toBe("cannot read script .: it is a directory");
  });

  test("E01 positions count lines as JavaScript does (\\r\\n, \\r, \\u2028)", async () => {
    expect(positionOf("a\r\nb\rc\u2028d\ne", 9)).toEqual({ line: 5, col: 1 });
    expect(positionOf("ab\ncd", 4)).toEqual({ line: 2, col: 2 });
    expect(positionOf("ab", 0)).toEqual({ line: 1, col: 1 });
    const crlf = `${head.replace("\n", "\r\n")}\r\nconst q = f()\r\nlet a = ;\r\n`;
    expect(await fails(crlf)).toBe("w.js:4:9: SyntaxError: Unexpected token");
    expect(await fails(`${head.replace("\n", "\r")}x = require("y")\r`)).toContain(
      "w.js:2:5: ForbiddenSyntax",
    );
  });
});

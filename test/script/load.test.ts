import { describe, expect, test } from "vitest";
import { ScriptError } from "../../dist/index.js";
import { loadScriptSource } from "../../dist/script/load.js";

async function fails(source: string, file = "w.js"): Promise<string> {
  try {
    await loadScriptSource(source, file, file.endsWith(".ts"));
  } catch (e) {
    expect(e).toBeInstanceOf(ScriptError);
    return (e as ScriptError).format();
  }
  throw new Error("expected a ScriptError");
}

const head = 'export const meta = { name: "n", description: "d" }\n';

describe("script loading", () => {
  test("S01 meta is read as JSON from the literal, phases and args included", async () => {
    const s = await loadScriptSource(
      `export const meta = {
  name: "audit", 'description': \`plain template\`, whenToUse: "often", n: -1.5, ok: true, none: null,
  phases: [{ title: "Find", detail: "look" }, { title: "Fix", model: "m" }],
  args: { type: "object", properties: { dir: { type: "string" } } },
}
return meta.name\n`,
      "w.js",
      false,
    );
    expect(s.meta).toEqual({
      name: "audit",
      description: "plain template",
      whenToUse: "often",
      n: -1.5,
      ok: true,
      none: null,
      phases: [
        { title: "Find", detail: "look" },
        { title: "Fix", model: "m" },
      ],
      args: { type: "object", properties: { dir: { type: "string" } } },
    });
    // `export` is blanked with spaces: positions are unchanged.
    expect(s.code.length).toBe(s.source.length);
    expect(s.code.startsWith("       const meta")).toBe(true);
  });

  test("S01 every non-literal form is refused at its position", async () => {
    const cases: [string, string][] = [
      ['export const meta = { name: "n", description: d }', 'w.js:1:47: MetaError: identifier "d"'],
      ['export const meta = { name: "n", description: f() }', "w.js:1:47: MetaError: a call"],
      ['export const meta = { ...x, name: "n", description: "d" }', "w.js:1:23: MetaError: a spread"],
      ['export const meta = { ["name"]: "n", description: "d" }', "w.js:1:24: MetaError: a computed key"],
      ['export const meta = { name, description: "d" }', "w.js:1:23: MetaError: shorthand property"],
      [
        'export const meta = { name: "n", description: "d", get x() { return 1 } }',
        "w.js:1:52: MetaError: methods",
      ],
      [
        'export const meta = { name: "n", description: "d", list: [1, ...a] }',
        "w.js:1:62: MetaError: a spread",
      ],
      [
        'export const meta = { name: "n" }',
        "w.js:1:21: MetaError: meta.description must be a non-empty string",
      ],
      ['export const meta = { name: "", description: "d" }', "w.js:1:29: MetaError: meta.name"],
      [
        'export const meta = { name: "n", description: "d", phases: [{ detail: "x" }] }',
        "w.js:1:60: MetaError: meta.phases",
      ],
      ['export const meta = { name: "n", description: "d", args: [] }', "w.js:1:58: MetaError: meta.args"],
      [
        'const x = 1\nexport const meta = { name: "n", description: "d" }',
        "w.js:1:1: MetaError: the first statement",
      ],
      ['export let meta = { name: "n", description: "d" }', "w.js:1:1: MetaError: the first statement"],
    ];
    for (const [src, expected] of cases) expect(await fails(`${src}\n`)).toContain(expected);
  });

  test("S03 import, import(), import.meta, require and other exports are refused where they are", async () => {
    expect(await fails(`${head}import x from "y"\n`)).toContain(
      "w.js:2:1: ForbiddenSyntax: import is not available",
    );
    expect(await fails(`${head}const m = () => import("y")\n`)).toContain(
      "w.js:2:17: ForbiddenSyntax: import()",
    );
    expect(await fails(`${head}log(import.meta.url)\n`)).toContain("w.js:2:5: ForbiddenSyntax: import.meta");
    expect(await fails(`${head}function f() { return require("fs") }\n`)).toContain(
      "w.js:2:23: ForbiddenSyntax: require",
    );
    expect(await fails(`${head}export default 1\n`)).toContain(
      "w.js:2:1: ForbiddenSyntax: only `export const meta`",
    );
    expect(await fails(`${head}export const other = 1\n`)).toContain("w.js:2:1: ForbiddenSyntax");
    // A property or method named require is not the global require.
    await expect(
      loadScriptSource(`${head}const o = { require() {} }\no.require()\n`, "w.js", false),
    ).resolves.toBeDefined();
  });

  test("S04 TypeScript is stripped without moving anything; run-time TypeScript syntax is refused", async () => {
    const src = `${head}interface A<T> { a: T }\ntype B = A<string>\nconst x: B = { a: "1" } as B\nfunction f<T>(v: T): T { return v }\nreturn f<number>(1)\n`;
    const s = await loadScriptSource(src, "w.ts", true);
    expect(s.code.length).toBe(src.length);
    expect(s.code.split("\n").length).toBe(src.split("\n").length);
    expect(s.code).not.toContain("interface");
    expect(await fails(`${head}type T = number\nconst a: T = 1\n  const = 2\n`, "w.ts")).toMatch(
      /^w\.ts:4:9: SyntaxError: /,
    );
    expect(await fails(`${head}\nenum Color { Red }\n`, "w.ts")).toContain("w.ts:3:1: UnsupportedTypeScript");
  });

  test("E01 a syntax error is path:line:col with the column from 1", async () => {
    expect(await fails(`${head}let a = ;\n`, "./flows/x.js")).toMatch(
      /^\.\/flows\/x\.js:2:9: SyntaxError: Unexpected token$/,
    );
  });
});

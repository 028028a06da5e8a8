/**
 * Loads a workflow script: read, strip TypeScript (positions kept), parse, check `meta` (S01) and
 * forbidden syntax (S03). Errors are ScriptErrors pointing into the original file (E01, S04).
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type Node, type Options, parse } from "acorn";
import type * as TS from "typescript";
import { positionOf, ScriptError, ScriptReadError } from "./errors.js";
import { MetaProblem, readMeta, type WorkflowMeta } from "./meta.js";
import { SCRIPT_PREFIX, SCRIPT_SUFFIX } from "./wrapper.js";

/** How a workflow body parses: a module with top-level `await` and `return` (S02), with positions. */
export const SCRIPT_PARSE_OPTIONS: Options = {
  ecmaVersion: "latest",
  sourceType: "module",
  allowReturnOutsideFunction: true,
  allowAwaitOutsideFunction: true,
  locations: true,
};

export type { WorkflowMeta } from "./meta.js";
export { SCRIPT_PREFIX, SCRIPT_SUFFIX } from "./wrapper.js";

export interface LoadedScript {
  /** The path as the user gave it (used in every error and stack trace). */
  displayPath: string;
  absPath?: string;
  /** The original text. */
  source: string;
  /**
   * Plain JavaScript with the same line and column positions as `source`; `meta` stays declared.
   * Meant to be run as the body of SCRIPT_PREFIX + code + SCRIPT_SUFFIX.
   */
  code: string;
  meta: WorkflowMeta;
  isTs: boolean;
  /** The script has a "worktree" string literal: it may ask for worktree isolation (W06 is checked before the run). */
  usesWorktrees: boolean;
  /** Things the loader changed or noticed, shown as warnings when the script runs. */
  warnings?: string[];
}

type AnyNode = Node & Record<string, any>;
type TypeScript = typeof import("typescript");

const isTsPath = (p: string) => /\.[cm]?ts$/i.test(p);

export async function loadScriptFile(pathAsGiven: string, cwd: string): Promise<LoadedScript> {
  const absPath = resolve(cwd, pathAsGiven);
  let source: string;
  try {
    source = await readFile(absPath, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "it is a directory" : err.message;
    throw new ScriptReadError(pathAsGiven, why);
  }
  return { ...(await loadScriptSource(source, pathAsGiven, isTsPath(pathAsGiven))), absPath };
}

/**
 * Async only because the TypeScript stripper is imported on first use: the compiler behind it
 * takes ~0.6 s to load, which every `weft` command would otherwise pay.
 */
export async function loadScriptSource(
  source: string,
  displayPath: string,
  isTs: boolean,
): Promise<LoadedScript> {
  const fenced = unwrapFence(source);
  const text = fenced?.text ?? source;
  const ts = isTs || (fenced !== undefined && /^(ts|typescript|tsx)$/i.test(fenced.lang));
  const js = blankHashbang(ts ? await stripTypes(text, displayPath) : text);
  const loaded = checkScriptBody(js, text, displayPath, ts);
  // The original text stays the script's source (its copy in the run, the gate hashes).
  if (!fenced) return loaded;
  return {
    ...loaded,
    source,
    warnings: [
      `${displayPath}: the script is wrapped in a Markdown code fence (\`\`\`${fenced.lang}); weft ran what is inside it. Save the script without the fence lines`,
    ],
  };
}

const FENCE_OPEN = /^[ \t]*(`{3,}|~{3,})[ \t]*([\w+-]*)[ \t]*$/;

/**
 * A script pasted from a chat answer often comes whole in one Markdown code fence
 * (```js ... ```). The fence lines become blank (same length, so every position in the file
 * stays where it was); anything else, such as prose around the fence or a second fence, is
 * not unwrapped and fails as the JavaScript it is.
 */
function unwrapFence(source: string): { text: string; lang: string } | undefined {
  const lines = source.split("\n");
  let first = 0;
  while (first < lines.length && lines[first]!.trim() === "") first++;
  let last = lines.length - 1;
  while (last > first && lines[last]!.trim() === "") last--;
  if (last <= first) return undefined;
  const open = FENCE_OPEN.exec(lines[first]!.replace(/\r$/, ""));
  if (!open) return undefined;
  const marker = open[1]!;
  const close = lines[last]!.replace(/\r$/, "").trim();
  if (close[0] !== marker[0] || close.length < marker.length || !/^(`+|~+)$/.test(close)) return undefined;
  for (let i = first + 1; i < last; i++) {
    if (new RegExp(`^[ \\t]*${marker[0] === "`" ? "`" : "~"}{3,}`).test(lines[i]!)) return undefined;
  }
  const blank = (l: string) => l.replace(/[^\r]/g, " ");
  lines[first] = blank(lines[first]!);
  lines[last] = blank(lines[last]!);
  return { text: lines.join("\n"), lang: open[2] ?? "" };
}

/**
 * The checks on JavaScript whose positions are those of `source` (S01, S03). Synchronous, for
 * callers that strip types themselves or have plain JavaScript.
 */
export function checkScriptBody(
  js: string,
  source: string,
  displayPath: string,
  isTs: boolean,
): LoadedScript {
  const error = (offset: number, kind: string, message: string) => {
    const { line, col } = positionOf(source, offset);
    return new ScriptError(displayPath, line, col, kind, message);
  };

  let ast: AnyNode;
  try {
    ast = parse(js, SCRIPT_PARSE_OPTIONS) as AnyNode;
  } catch (e) {
    throw acornError(e, displayPath, 0);
  }

  const body = ast.body as AnyNode[];
  const first = body[0];
  const init = metaInit(first);
  // S03: an import before meta is an import, not a misplaced meta: say what is wrong with it.
  const imported = init ? undefined : body.find((s) => s.type === "ImportDeclaration");
  if (imported) {
    throw error(
      imported.start,
      "ForbiddenSyntax",
      `import is not allowed in a workflow script: ${NO_MODULES}`,
    );
  }
  if (!init) {
    const later = body.findIndex((s, i) => i > 0 && metaInit(s));
    throw error(
      first?.start ?? 0,
      "MetaError",
      later > 0
        ? "`export const meta = {...}` must be the first statement of the script"
        : "the first statement must be `export const meta = { name, description, ... }`",
    );
  }
  if (init.type !== "ObjectExpression") {
    throw error(init.start, "MetaError", "meta must be an object literal `{ name, description, ... }`");
  }
  let meta: WorkflowMeta;
  try {
    meta = readMeta(init);
  } catch (e) {
    if (e instanceof MetaProblem) throw error(e.offset, "MetaError", e.message);
    throw e;
  }

  for (const stmt of body.slice(1)) {
    if (stmt.type.startsWith("Export")) {
      throw error(
        stmt.start,
        "ForbiddenSyntax",
        "only `export const meta` may be exported from a workflow script",
      );
    }
  }
  let usesWorktrees = false;
  walk(ast, (n) => {
    if (n.type === "Literal" && n.value === "worktree") usesWorktrees = true;
    if (n.type === "TemplateElement" && n.value.cooked === "worktree") usesWorktrees = true;
    if (n.type === "ImportDeclaration") {
      throw error(n.start, "ForbiddenSyntax", `import is not allowed in a workflow script: ${NO_MODULES}`);
    }
    if (n.type === "ImportExpression") {
      throw error(n.start, "ForbiddenSyntax", `import() is not available in workflow scripts: ${NO_MODULES}`);
    }
    if (n.type === "MetaProperty" && n.meta.name === "import") {
      throw error(
        n.start,
        "ForbiddenSyntax",
        `import.meta is not available in workflow scripts: ${NO_MODULES}`,
      );
    }
    if (n.type === "CallExpression" && n.callee.type === "Identifier" && n.callee.name === "require") {
      throw error(
        n.start,
        "ForbiddenSyntax",
        "require is not available in workflow scripts: the script has no Node API; ask an agent to do the work",
      );
    }
  });

  // `export` becomes spaces so the body is a plain script with unchanged positions.
  const at = first!.start;
  const code = `${js.slice(0, at)}${" ".repeat("export".length)}${js.slice(at + "export".length)}`;
  checkWrapped(code, displayPath, error);
  return { displayPath, source, code, meta, isTs, usesWorktrees };
}

const NO_MODULES = "the script runs in a sandbox without modules; ask an agent to do the work";

/** The value of `export const meta = ...` if `stmt` is exactly that declaration. */
function metaInit(stmt: AnyNode | undefined): AnyNode | undefined {
  const decl = stmt?.type === "ExportNamedDeclaration" ? stmt.declaration : undefined;
  if (decl?.type !== "VariableDeclaration" || decl.kind !== "const" || decl.declarations.length !== 1) return;
  const d = decl.declarations[0];
  return d.id.type === "Identifier" && d.id.name === "meta" ? (d.init ?? undefined) : undefined;
}

/**
 * The checks above parse the script as a module, but it runs as the body of a function in a
 * classic script, where `<!--` and a line-leading `-->` start comments (Annex B). A comment the
 * module parse never saw could hide a `})` that closes the wrapper and runs code outside it, in
 * sloppy mode. So the wrapped code is parsed as it will run, and must be one function.
 */
function checkWrapped(
  code: string,
  displayPath: string,
  error: (offset: number, kind: string, message: string) => ScriptError,
) {
  const wrapped = SCRIPT_PREFIX + code + SCRIPT_SUFFIX;
  const shift = SCRIPT_PREFIX.length;
  let program: AnyNode;
  try {
    program = parse(wrapped, {
      ecmaVersion: "latest",
      sourceType: "script",
      locations: true,
      onComment: (_block, _text, start) => {
        if (wrapped.startsWith("<!--", start) || wrapped.startsWith("-->", start)) {
          throw error(start - shift, "ForbiddenSyntax", "HTML-like comments (`<!--`, `-->`) are not allowed");
        }
      },
    }) as AnyNode;
  } catch (e) {
    if (e instanceof ScriptError) throw e;
    throw acornError(e, displayPath, -1);
  }
  const fn = program.body[0]?.expression;
  if (program.body.length !== 1 || fn?.type !== "FunctionExpression" || fn.end !== wrapped.length - 1) {
    throw error(0, "SyntaxError", "the script does not parse as one function body");
  }
}

/** An acorn SyntaxError as a ScriptError; `lineShift` undoes the lines of a wrapper. */
function acornError(e: unknown, displayPath: string, lineShift: number): unknown {
  const err = e as SyntaxError & { loc?: { line: number; column: number } };
  if (!(err instanceof SyntaxError)) return e;
  const message = err.message.replace(/ \(\d+:\d+\)$/, "");
  const line = (err.loc?.line ?? 1) + lineShift;
  return new ScriptError(displayPath, Math.max(line, 1), (err.loc?.column ?? 0) + 1, "SyntaxError", message);
}

/**
 * A `#!` line is allowed first in a file but not inside the function the script runs in; it is
 * blanked like a comment.
 */
function blankHashbang(js: string): string {
  if (!js.startsWith("#!")) return js;
  const end = js.search(/[\r\n\u2028\u2029]/);
  const stop = end === -1 ? js.length : end;
  return " ".repeat(stop) + js.slice(stop);
}

/**
 * TypeScript to JavaScript with every character in place (S04): types become spaces. TypeScript's
 * own syntax errors are reported first, as ts-blank-space assumes valid input and would blank a
 * broken annotation (`let x: = 1`) into valid JavaScript.
 */
async function stripTypes(source: string, displayPath: string): Promise<string> {
  const [{ default: ts }, { blankSourceFile }] = await Promise.all([
    import("typescript"),
    import("ts-blank-space"),
  ]);
  const error = (offset: number, kind: string, message: string) => {
    const { line, col } = positionOf(source, offset);
    return new ScriptError(displayPath, line, col, kind, message);
  };
  const sf = ts.createSourceFile(
    displayPath,
    source,
    { languageVersion: ts.ScriptTarget.ESNext, impliedNodeFormat: ts.ModuleKind.ESNext },
    /* setParentNodes, so that nodes know their start without leading comments */ true,
    ts.ScriptKind.TS,
  );
  // Internal but long-standing: the parser's diagnostics, without running the type checker.
  const diagnostics = (sf as unknown as { parseDiagnostics?: TS.DiagnosticWithLocation[] }).parseDiagnostics;
  const d = diagnostics?.[0];
  if (d) throw error(d.start, "SyntaxError", ts.flattenDiagnosticMessageText(d.messageText, " "));

  let unsupported: TS.Node | undefined;
  const js = blankSourceFile(sf, (n) => {
    unsupported ??= n;
  });
  if (unsupported) {
    const { kind, message } = unsupportedTs(ts, unsupported);
    throw error(unsupported.getStart(sf), kind, message);
  }
  return js;
}

function unsupportedTs(ts: TypeScript, n: TS.Node): { kind: string; message: string } {
  const K = ts.SyntaxKind;
  const cannot = (what: string, instead: string) => ({
    kind: "UnsupportedTypeScript",
    message: `${what} has run-time meaning and cannot be stripped to JavaScript; ${instead}`,
  });
  switch (n.kind) {
    case K.EnumDeclaration:
      return cannot("an enum", 'use a plain object (`const Color = { Red: "red" } as const`)');
    case K.ModuleDeclaration:
      return cannot("a namespace with values", "use plain objects and functions");
    case K.PublicKeyword:
    case K.PrivateKeyword:
    case K.ProtectedKeyword:
    case K.ReadonlyKeyword:
    case K.OverrideKeyword:
      return cannot("a parameter property", "declare the field and assign it in the constructor");
    case K.TypeAssertionExpression:
      return cannot("a `<T>value` cast", "write `value as T`");
    case K.AsExpression:
    case K.SatisfiesExpression:
      return cannot(
        "this `as`/`satisfies` between `??` and `&&`/`||`",
        "add parentheses so that removing it keeps the grouping",
      );
    case K.ImportEqualsDeclaration:
      return {
        kind: "ForbiddenSyntax",
        message: `\`import ... = \` is not available in workflow scripts: ${NO_MODULES}`,
      };
    case K.ExportAssignment:
      return {
        kind: "ForbiddenSyntax",
        message: "only `export const meta` may be exported from a workflow script",
      };
  }
  return cannot(`this TypeScript syntax (${ts.SyntaxKind[n.kind]})`, "use plain JavaScript here");
}

function walk(node: AnyNode, visit: (n: AnyNode) => void): void {
  visit(node);
  for (const key in node) {
    if (key === "loc") continue;
    const v = node[key];
    if (Array.isArray(v)) {
      for (const c of v) if (c && typeof c.type === "string") walk(c, visit);
    } else if (v && typeof v === "object" && typeof v.type === "string") {
      walk(v, visit);
    }
  }
}

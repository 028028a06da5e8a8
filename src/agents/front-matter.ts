/**
 * Front matter of Markdown agent definitions (`---\n<yaml>\n---\n<body>`), read strictly or as
 * leniently as Claude Code and pi read it (SPEC A02).
 *
 * Published `.claude/agents/*.md` files often carry an unquoted `: ` inside `description:` (pasted
 * `<example>` blocks with `user:` and `assistant:` lines), which strict YAML rejects ("Nested
 * mappings are not allowed in compact mappings"); Claude Code loads them anyway, and pi's subagent
 * loader falls back to reading `key: value` lines. The lenient reading does the same: strict YAML
 * first, and when that fails, one key per line that starts a line with `key:`, everything up to
 * the next such line being its value (indented `- item` lines make a list), with a warning.
 */
import { parse as parseYaml } from "yaml";

export interface FrontMatter {
  data: Record<string, unknown>;
  body: string;
  /** Set when strict YAML failed and the lines were read one by one: why, for one warning. */
  lenient?: string;
}

export class FrontMatterError extends Error {}

const FENCE = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** Splits and parses; a file without front matter is all body. Throws FrontMatterError when strict. */
export function readFrontMatter(text: string, lenient: boolean): FrontMatter {
  const m = FENCE.exec(text);
  if (!m) return { data: {}, body: text.trim() };
  const yaml = m[1]!;
  const body = text.slice(m[0].length).trim();
  let problem: string;
  try {
    const data: unknown = parseYaml(yaml);
    if (data === null || data === undefined) return { data: {}, body };
    if (isObject(data)) return { data, body };
    problem = "front matter must be a mapping of keys";
  } catch (e) {
    problem = `front matter is not valid YAML: ${firstLine((e as Error).message)}`;
  }
  if (!lenient) throw new FrontMatterError(problem);
  return { data: lineByLine(yaml), body, lenient: problem };
}

/** The YAML text between the fences, for a cheap look at one key (the `name`). */
export function frontMatterText(text: string): string | undefined {
  return FENCE.exec(text)?.[1];
}

const firstLine = (s: string) => s.split("\n")[0]!.trim();

const KEY_LINE = /^([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(.*?))?[ \t]*$/;
const ITEM_LINE = /^[ \t]+-[ \t]+(.*?)[ \t]*$/;
const BLOCK = /^[|>][+-]?$/;

/** `key: value` lines; a value runs on over the lines after it until the next `key:` at column 0. */
export function lineByLine(yaml: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let key: string | undefined;
  let parts: string[] = [];
  let items: string[] | undefined;
  let style: "plain" | "literal" | "folded" = "plain";
  const flush = () => {
    if (key === undefined) return;
    if (items) out[key] = items;
    else {
      const text = style === "literal" ? parts.join("\n") : parts.join(" ");
      const value = unquote(text.trim());
      if (value !== "") out[key] = flowList(value) ?? value;
    }
  };
  for (const line of yaml.split(/\r?\n/)) {
    const k = KEY_LINE.exec(line);
    if (k) {
      flush();
      key = k[1]!;
      const first = k[2] ?? "";
      items = undefined;
      style = BLOCK.test(first) ? (first.startsWith("|") ? "literal" : "folded") : "plain";
      parts = style === "plain" && first !== "" ? [first] : [];
      continue;
    }
    if (key === undefined || /^\s*#/.test(line)) continue;
    const item = ITEM_LINE.exec(line);
    if (item && style === "plain" && parts.length === 0) {
      if (!items) items = [];
      items.push(unquote(item[1]!));
      continue;
    }
    if (items) continue;
    if (line.trim() === "") {
      if (style === "literal") parts.push("");
      continue;
    }
    parts.push(style === "literal" ? line.replace(/^[ \t]+/, "") : line.trim());
  }
  flush();
  return out;
}

/** A value in matching quotes loses them (double quotes read as JSON escapes when they parse). */
function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return v.slice(1, -1);
    }
  }
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1).replace(/''/g, "'");
  return v;
}

/** `[Read, Grep]` as a list, as YAML reads a flow sequence. */
function flowList(v: string): string[] | undefined {
  if (!/^\[.*\]$/.test(v)) return undefined;
  return v
    .slice(1, -1)
    .split(",")
    .map((s) => unquote(s.trim()))
    .filter((s) => s !== "");
}

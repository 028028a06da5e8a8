/**
 * A02: agent definitions as Claude Code and pi read theirs (lenient front matter, pi's folders),
 * and weft's definitions of Claude Code's built-in types.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, test } from "vitest";
import { AgentTypes } from "../../src/agents/apply.js";
import { AgentDefinitions } from "../../src/agents/definitions.js";
import { lineByLine } from "../../src/agents/front-matter.js";
import type { Driver } from "../../src/drivers/types.js";

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "weft-defs-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** An environment whose pi user folder is empty, so the machine's own never leaks in. */
const noUser = () => ({ PI_CODING_AGENT_DIR: tree({}) });

// As published .claude/agents files are written: an unquoted ": " inside the description.
const BROKEN = `---
name: silent-failure-hunter
description: Use this agent when reviewing error handling. Examples:\\n<example>\\nContext: a PR.\\nuser: "Review PR 78"\\nassistant: "ok"\\n</example>
tools: Read, Grep, Glob
model: inherit
color: yellow
---
You hunt silent failures.
`;

describe("A02 lenient front matter", () => {
  test("A02 a .claude/agents file strict YAML rejects is read line by line, with a warning naming it, never dropped", () => {
    const dir = tree({ ".claude/agents/silent-failure-hunter.md": BROKEN });
    const def = new AgentDefinitions(dir, noUser()).find("silent-failure-hunter");
    expect(def).toBeDefined();
    expect(def!.description).toBe(
      'Use this agent when reviewing error handling. Examples:\\n<example>\\nContext: a PR.\\nuser: "Review PR 78"\\nassistant: "ok"\\n</example>',
    );
    expect(def!.permissions).toBe("read-only");
    expect(def!.model).toBeUndefined();
    expect(def!.instructions).toBe("You hunt silent failures.");
    expect(def!.ignored).toEqual(["color"]);
    expect(def!.lenient).toMatch(
      /^agent definition \.claude\/agents\/silent-failure-hunter\.md: front matter is not valid YAML: .*; read line by line/,
    );
  });

  test("A02 a broken file is found by the name inside it too", () => {
    const dir = tree({ ".claude/agents/hunter.md": BROKEN });
    const def = new AgentDefinitions(dir, noUser()).find("silent-failure-hunter");
    expect(def?.file).toBe(join(".claude", "agents", "hunter.md"));
  });

  test("A02 valid YAML is read by the YAML parser, without a warning", () => {
    const dir = tree({
      ".claude/agents/r.md":
        '---\nname: r\ndescription: "Reviews: code"\ntools:\n  - Read\n  - Edit\n---\nBody\n',
    });
    const def = new AgentDefinitions(dir, noUser()).find("r")!;
    expect(def.lenient).toBeUndefined();
    expect(def.description).toBe("Reviews: code");
    expect(def.permissions).toBeUndefined();
  });

  test("A02 the line-by-line reading: quotes, lists, flow lists, block scalars, runs of lines", () => {
    expect(
      lineByLine(
        [
          "name: 'it''s'",
          'description: "a: b" ',
          "tools:",
          "  - Read",
          "  - 'Bash(git *)'",
          "skills: [a, b]",
          "notes: |",
          "  one: 1",
          "  two",
          "summary: first: part",
          "  and more",
          "# a comment",
          "empty:",
        ].join("\n"),
      ),
    ).toEqual({
      name: "it's",
      description: "a: b",
      tools: ["Read", "Bash(git *)"],
      skills: ["a", "b"],
      notes: "one: 1\ntwo",
      summary: "first: part and more",
    });
  });

  test("A02 weft's own format stays strict: broken YAML in .weft/agents is an error naming the file", () => {
    const dir = tree({ ".weft/agents/w.md": "---\ndescription: a: b\n---\nx\n" });
    expect(() => new AgentDefinitions(dir, noUser()).find("w")).toThrow(
      /agent definition \.weft\/agents\/w\.md: front matter is not valid YAML/,
    );
  });
});

describe("A02 pi's agent folders", () => {
  const scout =
    "---\nname: scout\ndescription: Fast recon\ntools: read, grep, find, ls, bash\nmodel: claude-haiku-4-5\n---\nYou scout.\n";

  test("A02 .pi/agents/<name>.md in pi's format: tools without edit or write make it read-only", () => {
    const dir = tree({
      ".pi/agents/scout.md": scout,
      ".pi/agents/worker.md":
        "---\nname: worker\ndescription: Does it\ntools: read, edit, write, bash\n---\nYou work.\n",
    });
    const defs = new AgentDefinitions(dir, noUser());
    expect(defs.find("scout")).toMatchObject({
      format: "pi",
      file: join(".pi", "agents", "scout.md"),
      permissions: "read-only",
      model: "claude-haiku-4-5",
      description: "Fast recon",
      instructions: "You scout.",
    });
    expect(defs.find("worker")?.permissions).toBeUndefined();
  });

  test("A02 the user's ~/.pi/agent/agents ($PI_CODING_AGENT_DIR/agents) is read after the project's folders", () => {
    const user = tree({
      "agents/scout.md": scout,
      "agents/only-user.md": scout.replace("name: scout", "name: only-user"),
    });
    const dir = tree({
      ".claude/agents/scout.md": "---\nname: scout\ndescription: project's\n---\nProject scout.\n",
    });
    const defs = new AgentDefinitions(dir, { PI_CODING_AGENT_DIR: user });
    expect(defs.find("scout")?.description).toBe("project's");
    expect(defs.find("only-user")).toMatchObject({
      format: "pi",
      file: join(user, "agents", "only-user.md"),
    });
    // Without PI_CODING_AGENT_DIR, pi's folder is under HOME.
    const home = tree({ ".pi/agent/agents/h.md": scout.replace("name: scout", "name: h") });
    expect(new AgentDefinitions(dir, { HOME: home }).find("h")?.format).toBe("pi");
  });
});

const fakeDriver = (name: string, caps: Partial<NonNullable<Driver["capabilities"]>> = {}): Driver => ({
  name,
  capabilities: {
    model: true,
    effort: false,
    agentType: false,
    permissions: ["read-only", "edit", "full"],
    ...caps,
  },
  run: async () => ({ status: "completed", text: "" }),
});

describe("A02 Claude Code's built-in types", () => {
  test("A02 general-purpose, Explore and Plan are defined by weft: Explore and Plan read-only, general-purpose edit", () => {
    const defs = new AgentDefinitions(tree({}), noUser());
    expect(defs.find("Explore")).toMatchObject({ format: "builtin", permissions: "read-only" });
    expect(defs.find("Plan")).toMatchObject({ format: "builtin", permissions: "read-only" });
    expect(defs.find("general-purpose")).toMatchObject({ format: "builtin", permissions: "edit" });
    for (const n of ["Explore", "Plan", "general-purpose"]) expect(defs.find(n)!.instructions).toBeTruthy();
    // Names are Claude Code's, exactly.
    expect(defs.find("explore")).toBeUndefined();
  });

  test("A02 a built-in name in the wrong case is refused on a driver without named agents, pointing at the right one", () => {
    const types = new AgentTypes(tree({}), noUser());
    const d = fakeDriver("command");
    expect(() =>
      types.apply(
        { agentType: "explore" },
        d,
        () => d,
        () => {},
      ),
    ).toThrow(
      /no definition of agent type "explore" .* no named agents of its own; did you mean Claude Code's built-in "Explore"\?/,
    );
  });

  test("A02 a user definition of the same name wins over weft's", () => {
    const dir = tree({
      ".claude/agents/Explore.md": "---\nname: Explore\ndescription: mine\n---\nMy explorer.\n",
    });
    expect(new AgentDefinitions(dir, noUser()).find("Explore")).toMatchObject({
      format: "claude",
      description: "mine",
      permissions: undefined,
    });
  });

  test("A02 on a driver without the type, weft's definition applies (permissions, instructions); on claude the name goes to --agent with the type's permissions", async () => {
    const types = new AgentTypes(tree({}), noUser());
    const command = fakeDriver("command");
    const warned: string[] = [];
    const typed = types.apply(
      { agentType: "Explore" },
      command,
      () => command,
      (w) => warned.push(w),
    );
    expect(typed.opts).toEqual({ permissions: "read-only" });
    expect(typed.keyAgentType).toMatch(/^Explore@[0-9a-f]{16}$/);
    let prompt = "";
    const inner = fakeDriver("command");
    inner.run = async (task) => {
      prompt = task.prompt;
      return { status: "completed", text: "" };
    };
    const wrapped = types.apply(
      { agentType: "Plan" },
      inner,
      () => inner,
      () => {},
    );
    await wrapped.driver.run({ prompt: "do it" } as never, {} as never);
    expect(prompt).toMatch(
      /^## Your role: Plan \(read-only research[^\n]*\n\nYou are a read-only planning agent/,
    );
    expect(prompt).toContain("## Your task\n\ndo it");

    const claude = fakeDriver("claude", {
      agentType: true,
      builtinAgentTypes: ["general-purpose", "Explore", "Plan"],
    });
    const native = types.apply(
      { agentType: "Explore" },
      claude,
      () => claude,
      () => {},
    );
    expect(native.opts).toEqual({ agentType: "Explore", permissions: "read-only" });
    expect(native.driver).toBe(claude);
    // An explicit permission still wins.
    expect(
      types.apply(
        { agentType: "Plan", permissions: "edit" },
        claude,
        () => claude,
        () => {},
      ).opts,
    ).toEqual({
      agentType: "Plan",
      permissions: "edit",
    });
    expect(warned).toEqual([]);
  });

  test("A02 a lenient read warns through apply(), once per file per run", () => {
    const types = new AgentTypes(tree({ ".claude/agents/silent-failure-hunter.md": BROKEN }), noUser());
    const d = fakeDriver("command");
    const warned: string[] = [];
    for (let i = 0; i < 2; i++) {
      types.apply(
        { agentType: "silent-failure-hunter" },
        d,
        () => d,
        (w) => warned.push(w),
      );
    }
    // The engine's warnOnce drops the repeat; the message names the file so each file warns once.
    const lenient = warned.filter((w) => w.includes("read line by line"));
    expect(new Set(lenient).size).toBe(1);
    expect(lenient[0]).toContain(".claude/agents/silent-failure-hunter.md");
  });
});

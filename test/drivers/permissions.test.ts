/**
 * D05: what each permission level becomes on each backend, read from the command line and the
 * environment the driver really starts its CLI with (a capturing stand-in for the CLI, see
 * capture.ts). The real CLIs' behaviour under these flags is checked by the contract tests.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { afterAll, describe, expect, test } from "vitest";
import { captureKit, flag } from "./capture.js";

const kit = captureKit(["OPENCODE_PERMISSION", "OPENCODE_CONFIG_CONTENT", "IS_SANDBOX"]);
afterAll(() => rmSync(kit.root, { recursive: true, force: true }));

const run = (name: string, permissions: "read-only" | "edit" | "full", env?: Record<string, string>) =>
  kit.capture(kit.driver(name, env), kit.task({ permissions }));

describe("claude", () => {
  test("D05 claude: edit accepts edits and pre-approves no shell (the user's allow rules decide); read-only and full as before", async () => {
    const { argv } = await run("claude", "edit");
    expect(flag(argv, "--permission-mode")).toBe("acceptEdits");
    // No tool is pre-approved by weft: not Bash, not Bash(*), not in any spelling.
    expect(argv.some((a) => a.startsWith("--allowedTools") || a.startsWith("--allowed-tools"))).toBe(false);
    expect(argv.some((a) => /\bBash\b/.test(a) && a !== argv.at(-1))).toBe(false);
    expect(argv).not.toContain("--dangerously-skip-permissions");
    // read-only denies what would ask and takes the edit tools away; full bypasses the checks.
    const ro = await run("claude", "read-only");
    expect(flag(ro.argv, "--permission-mode")).toBe("dontAsk");
    expect(flag(ro.argv, "--disallowedTools")?.split(",")).toEqual(
      expect.arrayContaining(["Edit", "Write", "NotebookEdit"]),
    );
    const full = await run("claude", "full");
    expect(flag(full.argv, "--permission-mode")).toBe("bypassPermissions");
  });
});

describe("gemini", () => {
  test("D05 gemini: edit is auto_edit, never yolo; full is yolo; read-only the default mode under a deny policy", async () => {
    const edit = await run("gemini", "edit");
    expect(flag(edit.argv, "--approval-mode")).toBe("auto_edit");
    expect(edit.argv).not.toContain("--yolo");
    expect(edit.argv).not.toContain("-y");
    expect(edit.argv.some((a) => a.includes("yolo"))).toBe(false);
    const full = await run("gemini", "full");
    expect(flag(full.argv, "--approval-mode")).toBe("yolo");
    // read-only: the default mode plus an admin policy that denies the writing tools.
    const { argv } = await run("gemini", "read-only");
    expect(flag(argv, "--approval-mode")).toBe("default");
    const policy = flag(argv, "--admin-policy");
    expect(policy && existsSync(policy)).toBe(true);
    const text = readFileSync(policy as string, "utf8");
    expect(text).toContain('"run_shell_command"');
    expect(text).toContain('decision = "deny"');
  });
});

describe("pi", () => {
  test("D05 pi: edit offers the file tools and no shell; full offers pi's own defaults", async () => {
    const edit = await run("pi", "edit");
    const tools = flag(edit.argv, "--tools")?.split(",");
    expect(tools).toEqual(expect.arrayContaining(["read", "edit", "write"]));
    expect(tools).not.toContain("bash");
    const full = await run("pi", "full");
    expect(flag(full.argv, "--tools")).toBeUndefined();
    const ro = await run("pi", "read-only");
    expect(flag(ro.argv, "--tools")).toBe("read,grep,find,ls");
  });
});

describe("opencode", () => {
  const rules = async (permissions: "read-only" | "edit" | "full", env?: Record<string, string>) => {
    const c = await run("opencode", permissions, env);
    return {
      argv: c.argv,
      rules: JSON.parse(c.env.OPENCODE_PERMISSION ?? "null"),
      config: JSON.parse(c.env.OPENCODE_CONFIG_CONTENT ?? "null"),
    };
  };

  test("D05 opencode: edit allows edits and asks (so refuses, in run) every command no user rule allows", async () => {
    const { argv, rules: r } = await rules("edit");
    expect(r.edit).toEqual({ "*": "allow" });
    expect(r.bash).toEqual({ "*": "ask" });
    expect(argv).not.toContain("--auto");
  });

  test("D05 opencode: under edit a refused command goes back to the model instead of ending the turn; the user's config is kept", async () => {
    const user = JSON.stringify({ provider: { mock: { npm: "x" } }, experimental: { mcp_timeout: 5 } });
    const { config } = await rules("edit", { OPENCODE_CONFIG_CONTENT: user });
    expect(config).toEqual({
      provider: { mock: { npm: "x" } },
      experimental: { continue_loop_on_deny: true, mcp_timeout: 5 },
    });
    // The user's own choice wins.
    const theirs = await rules("edit", {
      OPENCODE_CONFIG_CONTENT: JSON.stringify({ experimental: { continue_loop_on_deny: false } }),
    });
    expect(theirs.config.experimental.continue_loop_on_deny).toBe(false);
  });

  test("D05 opencode: edit keeps the user's own bash rules, after the catch-all, so they still win", async () => {
    const user = JSON.stringify({
      bash: { "*": "allow", "git status*": "allow", "rm *": "deny" },
      webfetch: "deny",
    });
    const { rules: r } = await rules("edit", { OPENCODE_PERMISSION: user });
    expect(r.webfetch).toBe("deny");
    // The catch-all is weft's, set where the user had theirs; their patterns come after it.
    expect(Object.entries(r.bash)).toEqual([
      ["*", "ask"],
      ["git status*", "allow"],
      ["rm *", "deny"],
    ]);
  });

  test("D05 opencode: read-only denies edit and bash whatever the user's rules; full runs every command with --auto", async () => {
    const user = JSON.stringify({ bash: { "*": "ask", "git *": "allow" } });
    const ro = await rules("read-only", { OPENCODE_PERMISSION: user });
    expect(ro.rules.bash).toBe("deny");
    expect(ro.rules.edit).toBe("deny");
    const full = await rules("full");
    expect(full.rules.bash).toEqual({ "*": "allow" });
    expect(full.argv).toContain("--auto");
  });
});

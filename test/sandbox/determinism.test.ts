/** S05: readings of the clock or the machine's time zone throw; dates given to formatters format alike everywhere. */
import { describe, expect, test } from "vitest";
import { meta, project, runScript } from "../helpers/cli.js";

const body = `const out = {}
const tries = {
  format: () => new Intl.DateTimeFormat().format(),
  formatUndefined: () => Intl.DateTimeFormat("en-US").format(undefined),
  formatAlias: () => { const F = Intl.DateTimeFormat; const f = F().format; return f() },
  formatToParts: () => new Intl.DateTimeFormat().formatToParts(),
  timeZone: () => new Intl.DateTimeFormat().resolvedOptions().timeZone,
  offset: () => new Date(0).getTimezoneOffset(),
}
for (const [k, f] of Object.entries(tries)) { try { out[k] = "returned " + JSON.stringify(f()) } catch (e) { out[k] = e.name } }
const d = new Date(0)
out.given = new Intl.DateTimeFormat("en-US", { dateStyle: "full", timeStyle: "long" }).format(d)
out.parts = new Intl.DateTimeFormat("en-US", { hour: "numeric" }).formatToParts(d).map((p) => p.value).join("").replace(/[^0-9A-Z]+/g, " ")
out.explicit = new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Tokyo" }).resolvedOptions().timeZone
out.local = [new Date(2024, 0, 2, 10).toISOString(), new Date("2024-01-02T10:00").getHours(), d.toString(), d.toLocaleString("en-US")]
return out
`;

describe("determinism", () => {
  test("S05 Intl formatting without a date, resolvedOptions().timeZone and getTimezoneOffset throw DeterminismError; given dates format alike in every time zone", async () => {
    const outs = [];
    for (const TZ of ["UTC", "America/New_York", "Asia/Kolkata"]) {
      const dir = project({ "wf.js": meta() + body });
      const r = await runScript(dir, "wf.js", [], { TZ });
      expect(r.code, r.stderr).toBe(0);
      outs.push(JSON.parse(r.stdout));
    }
    expect(outs[0]).toEqual({
      format: "DeterminismError",
      formatUndefined: "DeterminismError",
      formatAlias: "DeterminismError",
      formatToParts: "DeterminismError",
      timeZone: "DeterminismError",
      offset: "DeterminismError",
      given: "Thursday, January 1, 1970 at 12:00:00 AM UTC",
      parts: "12 AM",
      explicit: "Asia/Tokyo",
      local: [
        "2024-01-02T10:00:00.000Z",
        10,
        "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)",
        "1/1/1970, 12:00:00 AM",
      ],
    });
    expect(outs[1]).toEqual(outs[0]);
    expect(outs[2]).toEqual(outs[0]);
  });
});

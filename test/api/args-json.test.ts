/** S02: `args` become JSON by the rules of a script's result (src/api/args-json.ts). */
import { describe, expect, test } from "vitest";
import { ArgsJsonError, argsToJson } from "../../src/api/args-json.js";

describe("S02 args as JSON", () => {
  test("S02 args: NaN and the infinities become null with one warning naming the paths; undefined in objects is dropped", () => {
    const r = argsToJson({
      a: Number.NaN,
      b: [1, Number.POSITIVE_INFINITY, undefined],
      c: { "d-e": Number.NEGATIVE_INFINITY },
      u: undefined,
    });
    expect(r.json).toBe('{"a":null,"b":[1,null,null],"c":{"d-e":null}}');
    expect(r.warning).toBe(
      'args.a is NaN, args.b[1] is Infinity, args.c["d-e"] is -Infinity: JSON cannot carry these numbers, so they are recorded as null',
    );
    expect(argsToJson(JSON.parse('{"n": 1e400}'))).toEqual({
      json: '{"n":null}',
      warning: "args.n is Infinity: JSON cannot carry this number, so it is recorded as null",
    });
    const many = argsToJson([Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN]);
    expect(many.warning).toMatch(/^args\[0\] is NaN, args\[1\] is NaN, args\[2\] is NaN and 2 more:/);
    expect(argsToJson({ ok: "x", n: 2, t: true, z: null })).toEqual({
      json: '{"ok":"x","n":2,"t":true,"z":null}',
    });
  });

  test("S02 args: functions, symbols, bigints, cycles, promises, Maps and Sets are refused naming the path", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const cases: [unknown, RegExp][] = [
      [{ f: () => 1 }, /^args\.f is a function/],
      [{ s: [Symbol("x")] }, /^args\.s\[0\] is a symbol/],
      [{ b: 10n }, /^args\.b is a bigint/],
      [{ b: Object(10n) }, /^args\.b is a bigint/],
      [cycle, /^args\.self is a reference back to itself/],
      [{ p: Promise.resolve(1) }, /^args\.p is a promise/],
      [{ m: new Map() }, /^args\.m is a Map/],
      [{ deep: { set: new Set([1]) } }, /^args\.deep\.set is a Set/],
    ];
    for (const [value, message] of cases) {
      let error: unknown;
      try {
        argsToJson(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ArgsJsonError);
      expect((error as Error).message).toMatch(message);
    }
  });

  test("S02 args: toJSON and getters are read once, and what was read is recorded", () => {
    let reads = 0;
    const value = {
      get x() {
        reads++;
        return reads === 1 ? 1 : Number.NaN;
      },
      when: new Date(0),
      shared: [1],
    };
    const r = argsToJson({ value, again: value.shared });
    expect(r).toEqual({
      json: '{"value":{"x":1,"when":"1970-01-01T00:00:00.000Z","shared":[1]},"again":[1]}',
    });
    expect(reads).toBe(1);
  });
});

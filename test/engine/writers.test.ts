import { expect, test } from "vitest";
import { insert, subtract, WriterClock } from "../../dist/engine/writers.js";

type R = [number, number][];
const toSet = (r: readonly (readonly [number, number])[]) => {
  const s = new Set<number>();
  for (const [a, b] of r) for (let i = a; i <= b; i++) s.add(i);
  return s;
};
const fromSet = (s: Set<number>): R => {
  const out: R = [];
  for (const n of [...s].sort((x, y) => x - y)) {
    const last = out.at(-1);
    if (last && last[1] === n - 1) last[1] = n;
    else out.push([n, n]);
  }
  return out;
};

test("R03 writer ranges: insert and subtract agree with plain sets, and stay merged", () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 2000; round++) {
    const a = new Set<number>();
    const b = new Set<number>();
    for (let i = 0; i < rand(12); i++) a.add(1 + rand(30));
    for (let i = 0; i < rand(12); i++) b.add(1 + rand(30));
    const n = 1 + rand(32);
    const ins = insert(fromSet(a), n);
    expect(ins).toEqual(fromSet(new Set([...a, n])));
    const sub = subtract(fromSet(a), fromSet(b));
    expect(sub).toEqual(fromSet(new Set([...a].filter((x) => !b.has(x)))));
    expect(toSet(sub)).toEqual(new Set([...a].filter((x) => !b.has(x))));
  }
});

test("R03 the frontier of a sequential loop and of a parallel() of writers is one range", () => {
  const clock = new WriterClock();
  for (let i = 1; i <= 1000; i++) {
    const after = clock.frontier;
    expect(after.length).toBeLessThanOrEqual(1);
    expect(clock.finish(after)).toBe(i);
  }
  expect(clock.frontier).toEqual([[1000, 1000]]);
  // 100 writers called at once, finishing in any order: then one range.
  const at = clock.frontier;
  for (let i = 0; i < 100; i++) clock.finish(at);
  expect(clock.frontier).toEqual([[1001, 1100]]);
});

test("R03 a cached call is fresh only when every writer it recorded was served in this execution", () => {
  // Journal: writers 1..5 cached; a reader recorded [[1,3]], another [[4,5]], another [[6,6]].
  const clock = new WriterClock(6, [1, 2, 3, 4, 5]);
  expect(clock.fresh(undefined)).toBe(true); // an old record: no writers recorded
  expect(clock.fresh([[1, 3]])).toBe(false);
  clock.serve(1, undefined);
  clock.serve(3, [[1, 1]]);
  expect(clock.fresh([[1, 3]])).toBe(false); // 2 not served
  clock.serve(2, [[1, 1]]);
  expect(clock.fresh([[1, 3]])).toBe(true);
  expect(
    clock.fresh([
      [1, 1],
      [3, 3],
    ]),
  ).toBe(true);
  // 6 is not a cached writer's number (it failed, or the journal is damaged): never served.
  clock.serve(6, undefined);
  expect(clock.fresh([[6, 6]])).toBe(false);
  expect(clock.fresh([[1, 2 ** 40]])).toBe(false);
  // New writers are numbered after the journal's highest.
  expect(clock.finish(clock.frontier)).toBe(7);
});

/**
 * R03's writer rule: a cached answer is never stale. Each call records the writers that had
 * finished when it was made; on resume it is served from the cache only if every one of them
 * was served from the cache earlier in this execution (a writer that ran again, whose key
 * changed, or that the script no longer calls makes the call run again).
 *
 * Writers are numbered as they finish (or are served), once per run: a writer that runs again
 * gets a new number, so the old number is never served again and every call that recorded it
 * runs again.
 *
 * What a call records is not every finished writer (a sequential loop of n writers would record
 * n²/2 numbers) but the frontier: the finished writers that no other finished writer had
 * recorded. That is enough, because serving a writer from the cache required its own recorded
 * writers to be served before it (so the check is transitive). The frontier is kept as ranges
 * of writer numbers ([a, b]: every writer numbered a..b): one range for a sequential loop, one
 * for a `parallel()` of writers that finished together, and a few more where runs of writers
 * overlap.
 */

/** Disjoint ranges of writer numbers, sorted, never adjacent; [a, b] means a..b inclusive. */
export type Ranges = readonly (readonly [number, number])[];

/** `set` with the numbers of `minus` taken out. Both sorted; linear in their lengths. */
export function subtract(set: Ranges, minus: Ranges): Ranges {
  if (minus.length === 0 || set.length === 0) return set;
  const out: [number, number][] = [];
  let j = 0;
  for (const [a0, b] of set) {
    let a = a0;
    while (j < minus.length && minus[j]![1] < a) j++;
    let k = j;
    while (a <= b && k < minus.length && minus[k]![0] <= b) {
      const [c, d] = minus[k]!;
      if (c > a) out.push([a, c - 1]);
      a = Math.max(a, d + 1);
      k++;
    }
    if (a <= b) out.push([a, b]);
  }
  return out;
}

/** `set` with `n` added, merged into a neighbouring range where it touches one. */
export function insert(set: Ranges, n: number): Ranges {
  let i = 0;
  while (i < set.length && set[i]![1] < n - 1) i++;
  const out = set.slice(0, i) as [number, number][];
  const at = set[i];
  if (at && at[0] <= n + 1) {
    if (n >= at[0] && n <= at[1]) return set;
    // n touches `at` (n = a - 1 or n = b + 1); it may also close the gap to the next range.
    let merged: [number, number] = [Math.min(at[0], n), Math.max(at[1], n)];
    const next = set[i + 1];
    let rest = i + 1;
    if (next && next[0] === merged[1] + 1) {
      merged = [merged[0], next[1]];
      rest++;
    }
    out.push(merged);
    for (let k = rest; k < set.length; k++) out.push(set[k] as [number, number]);
    return out;
  }
  out.push([n, n]);
  for (let k = i; k < set.length; k++) out.push(set[k] as [number, number]);
  return out;
}

/**
 * Writer numbers served from the cache in this execution. Only the numbers of cached records can
 * ever be served, so the set is a Fenwick tree over those numbers in sorted order: a range is
 * counted in O(log n), and its memory follows the journal's records, never a number a record
 * names.
 */
class ServedSet {
  private readonly numbers: Float64Array;
  private readonly tree: Int32Array;
  private readonly marked: Uint8Array;

  constructor(candidates: number[]) {
    this.numbers = Float64Array.from(new Set(candidates)).sort();
    this.tree = new Int32Array(this.numbers.length + 1);
    this.marked = new Uint8Array(this.numbers.length + 1);
  }

  /** How many candidates are < n (binary search). */
  private below(n: number): number {
    let lo = 0;
    let hi = this.numbers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.numbers[mid]! < n) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(n: number): void {
    const i = this.below(n) + 1;
    if (this.numbers[i - 1] !== n || this.marked[i]) return;
    this.marked[i] = 1;
    for (let k = i; k < this.tree.length; k += k & -k) this.tree[k]!++;
  }

  private prefix(count: number): number {
    let s = 0;
    for (let k = count; k > 0; k -= k & -k) s += this.tree[k]!;
    return s;
  }

  /** Every number of a..b served (so every one of them is a cached writer's). */
  all(a: number, b: number): boolean {
    if (!(a >= 1 && a <= b)) return false;
    return this.prefix(this.below(b + 1)) - this.prefix(this.below(a)) === b - a + 1;
  }
}

export class WriterClock {
  /** The frontier now; replaced, never changed in place, so a snapshot is the array itself. */
  private front: Ranges = [];
  private next: number;
  private readonly served: ServedSet;

  /**
   * `maxRecorded`: the highest writer number in the journal (new writers are numbered after
   * it); `cached`: the writer numbers of the cached records, the only ones a resume can serve.
   */
  constructor(maxRecorded = 0, cached: number[] = []) {
    this.next = maxRecorded + 1;
    this.served = new ServedSet(cached);
  }

  /** What a call made now records (R03): the frontier of finished writers. */
  get frontier(): Ranges {
    return this.front;
  }

  /** Whether a cached call's recorded writers were all served from the cache in this execution. */
  fresh(after: Ranges | undefined): boolean {
    // A record from before R03's writer rule (no `after`) counts as having recorded no writer:
    // such journals resume as they did when they were written.
    if (!after) return true;
    for (const [a, b] of after) if (!this.served.all(a, b)) return false;
    return true;
  }

  /** A cached writer was served: its recorded number counts as served, and joins the frontier. */
  serve(writer: number, after: Ranges | undefined): void {
    this.served.add(writer);
    this.front = insert(subtract(this.front, after ?? []), writer);
  }

  /** A writer of this execution finished: its new number, now on the frontier. */
  finish(after: Ranges): number {
    const n = this.next++;
    this.front = insert(subtract(this.front, after), n);
    return n;
  }
}

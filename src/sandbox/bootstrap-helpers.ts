/**
 * Source of the Pi ports' quality helpers (pi-dynamic-workflows 2.x/3.x: verify, judgePanel,
 * loopUntilDry, completenessCheck, retry, the function form of gate) and checkpoint(), spliced
 * into BOOTSTRAP_SOURCE's closure (bootstrap-source.ts), so it runs in the script's context and
 * sees the bridge's captured built-ins (apply, isArray, stringify, own, ...).
 *
 * Why here and not in the engine: the helpers are made of the script-level agent() and
 * parallel(), so every agent they start is an ordinary agent call, journaled and matched on
 * resume by its prompt and options like any other; nothing new crosses the bridge for them.
 * checkpoint() is one new request ("op" "checkpoint", JSON in, JSON out), answered by the
 * engine's gates (engine/gates.ts).
 *
 * Semantics follow the port (its src/workflow.ts and capability-details.md), including the
 * prompts, schemas and labels of the agents the helpers start, so a port script's results and
 * cache keys are what that script expects: failed reviewers/judges are left out of the counts,
 * a candidate without judgments scores 0, ties go to the lower index, loopUntilDry returns what
 * it gathered when a limit refuses a call (weft's LimitError, or the port's codes).
 *
 * Like the rest of the bridge, this code only calls built-ins it captured before the script ran
 * (the script may replace Array.prototype.push, JSON.stringify, ...) and never for...of or spread.
 */
export const HELPERS_SOURCE = String.raw`
  // ---- quality helpers of the Pi ports ----
  const intOr = (v, fallback) => (typeof v === "number" && v === v ? v : fallback);
  // The port clamps counts below 1 to 1; a fraction is rounded down (Array.from({length}) does).
  const count = (v, fallback) => { const n = intOr(v, fallback); return n < 1 ? 1 : (n === Infinity ? n : floor(n)); };
  const asText = (x) => (typeof x === "string" ? x : stringify(x));
  const optsOf = (o, fn) => {
    if (o === undefined || o === null) return create(null);
    if (typeof o !== "object" || isArray(o)) throw new RealTypeError(fn + ": options must be an object");
    return o;
  };
  const push = (list, v) => own(list, list.length, v);

  const VERIFY_SCHEMA = { type: "object", properties: { real: { type: "boolean" }, reason: { type: "string" } }, required: ["real"] };
  async function verify(item, options) {
    const o = optsOf(options, "verify(item, options?)");
    const reviewers = count(o.reviewers, 2);
    if (reviewers === Infinity) throw new RealRangeError("verify(): reviewers must be a finite number");
    const threshold = typeof o.threshold === "number" ? o.threshold : 0.5;
    const lens = o.lens;
    const lenses = [];
    if (lens) { if (isArray(lens)) { for (let i = 0; i < lens.length; i++) push(lenses, lens[i]); } else push(lenses, lens); }
    const claim = asText(item);
    const thunks = [];
    for (let i = 0; i < reviewers; i++) {
      const focus = lenses.length ? " Focus lens: " + text(lenses[i % lenses.length]) + "." : "";
      push(thunks, () => agent("Adversarially review whether the following is REAL/correct. Try to refute it; default to real=false if unsure." + focus + "\n\n" + claim,
        { label: "verify " + (i + 1), schema: VERIFY_SCHEMA }));
    }
    const all = await parallel(thunks);
    const votes = [];
    let realCount = 0;
    for (let i = 0; i < all.length; i++) {
      const v = all[i];
      if (!v) continue;
      push(votes, v);
      if (v.real) realCount++;
    }
    return { real: votes.length > 0 && realCount / votes.length >= threshold, realCount, total: votes.length, votes };
  }

  const JUDGE_SCHEMA = { type: "object", properties: { score: { type: "number" }, reason: { type: "string" } }, required: ["score"] };
  async function judgePanel(attempts, options) {
    const o = optsOf(options, "judgePanel(attempts, options?)");
    const judges = count(o.judges, 3);
    if (judges === Infinity) throw new RealRangeError("judgePanel(): judges must be a finite number");
    const rubric = o.rubric === undefined || o.rubric === null ? "overall quality and correctness" : text(o.rubric);
    const list = [];
    if (isArray(attempts)) for (let i = 0; i < attempts.length; i++) push(list, attempts[i]);
    const candidates = [];
    for (let idx = 0; idx < list.length; idx++) {
      const att = list[idx];
      push(candidates, async () => {
        const body = asText(att);
        const panel = [];
        for (let j = 0; j < judges; j++) {
          push(panel, () => agent("Score this candidate from 0 to 1 on: " + rubric + ". Reply with the score.\n\nCandidate:\n" + body,
            { label: "judge " + (idx + 1) + "." + (j + 1), schema: JUDGE_SCHEMA }));
        }
        const got = await parallel(panel);
        const judgments = [];
        let sum = 0;
        for (let k = 0; k < got.length; k++) {
          const g = got[k];
          if (!g) continue;
          push(judgments, g);
          const s = +g.score;
          sum += s === s ? s : 0;
        }
        return { index: idx, attempt: att, score: judgments.length ? sum / judgments.length : 0, judgments };
      });
    }
    const scored = await parallel(candidates);
    let best;
    for (let i = 0; i < scored.length; i++) {
      const s = scored[i];
      if (!s) continue;
      if (best === undefined || s.score > best.score || (s.score === best.score && s.index < best.index)) best = s;
    }
    return best;
  }

  // A limit that refused a call: weft's LimitError, or the codes the port's errors carry.
  const isCapacity = (e) => {
    try {
      if (e === null || typeof e !== "object") return false;
      const code = e.code;
      return e.name === "LimitError" || code === "TOKEN_BUDGET_EXHAUSTED" || code === "AGENT_LIMIT_EXCEEDED";
    } catch { return false; }
  };
  async function loopUntilDry(options) {
    if (options === null || typeof options !== "object" || typeof options.round !== "function")
      throw new RealTypeError("loopUntilDry requires { round: (i) => items[] }");
    const round = options.round;
    const key = typeof options.key === "function" ? options.key : (x) => stringify(x);
    const consecutiveEmpty = count(options.consecutiveEmpty, 2);
    const maxRounds = intOr(options.maxRounds, 50);
    const seen = create(null);
    const out = [];
    let dry = 0;
    for (let r = 0; r < maxRounds && dry < consecutiveEmpty; r++) {
      let items;
      try { items = await round(r); }
      catch (e) { if (isCapacity(e)) break; throw e; }
      let fresh = 0;
      if (isArray(items)) {
        const n = items.length;
        for (let i = 0; i < n; i++) {
          const x = items[i];
          if (x === null || x === undefined) continue;
          const k = "k" + text(key(x));
          if (seen[k] === true) continue;
          seen[k] = true;
          push(out, x);
          fresh++;
        }
      }
      if (fresh === 0) dry++;
      else dry = 0;
    }
    return out;
  }

  const COMPLETENESS_SCHEMA = { type: "object", properties: { complete: { type: "boolean" }, missing: { type: "array", items: { type: "string" } } }, required: ["complete"] };
  async function completenessCheck(taskArgs, results) {
    const evidence = stringify(results);
    return agent("Given the task and the results gathered so far, list what is still MISSING (modalities not covered, claims unverified, gaps). Be specific and concise.\n\nTask:\n" + stringify(taskArgs) + "\n\nResults so far:\n" + (typeof evidence === "string" ? slice(evidence, 0, 4000) : text(evidence)),
      { label: "completeness critic", schema: COMPLETENESS_SCHEMA });
  }

  async function retry(thunk, options) {
    if (typeof thunk !== "function") throw new RealTypeError("retry(thunk, options?): thunk must be a function");
    const o = optsOf(options, "retry(thunk, options?)");
    const attempts = count(o.attempts, 3);
    const until = o.until;
    if (until !== undefined && typeof until !== "function") throw new RealTypeError("retry(thunk, { attempts, until }): until must be a function of the result");
    let last;
    for (let i = 0; i < attempts; i++) {
      last = await thunk(i);
      if (until === undefined || until(last)) return last;
    }
    return last;
  }

  // The port's gate(producer, validator, {attempts}): a validated retry loop, no person involved.
  async function validatedGate(producer, validator, options) {
    if (typeof validator !== "function") throw new RealTypeError("gate(producer, validator, options?): validator must be a function returning { ok, feedback? }");
    const o = optsOf(options, "gate(producer, validator, options?)");
    const attempts = count(o.attempts, 3);
    let feedback;
    let last;
    for (let i = 0; i < attempts; i++) {
      last = await producer(feedback, i);
      const verdict = await validator(last);
      // A bare true is not { ok: true } (the port's rule).
      const ok = verdict !== null && typeof verdict === "object" && !!verdict.ok;
      if (ok) return { ok: true, value: last, attempts: i + 1 };
      feedback = verdict !== null && typeof verdict === "object" ? verdict.feedback : undefined;
    }
    return { ok: false, value: last, attempts };
  }
  // gate(title, opts) is weft's approval; gate(fn, validator, opts) the port's loop (A14).
  function gateEntry(first, second, third) {
    if (typeof first === "function") return validatedGate(first, second, third);
    return gate(first, second);
  }

  // A14: the Pi ports' journaled question to a person, answered through weft's gates.
  const CHECKPOINT_KINDS = { __proto__: null, confirm: true, input: true, select: true };
  const CHECKPOINT_KEYS = { __proto__: null, default: true, headless: true, kind: true, choices: true, timeoutMs: true };
  function checkpoint(prompt, options) {
    let argsJson;
    try {
      if (typeof prompt !== "string" || prompt === "") throw new RealTypeError("checkpoint(prompt, options?): prompt must be a non-empty string");
      if (options !== undefined && (options === null || typeof options !== "object" || isArray(options)))
        throw new RealTypeError("checkpoint(prompt, options?): options must be an object like { default, kind, choices }");
      argsJson = '{"prompt":' + stringify(prompt);
      if (options !== undefined) {
        const keys = objectKeys(options);
        for (let i = 0; i < keys.length; i++) {
          if (CHECKPOINT_KEYS[keys[i]] !== true) post("warn", "checkpoint(): unknown option " + stringify(keys[i]) + " (known: default, headless, kind, choices, timeoutMs)");
        }
        const headless = options.headless, kind = options.kind, choices = options.choices, timeoutMs = options.timeoutMs;
        if (headless !== undefined && headless !== "default" && headless !== "abort")
          throw new RealTypeError('checkpoint(): headless must be "default" or "abort"');
        if (kind !== undefined && (typeof kind !== "string" || CHECKPOINT_KINDS[kind] !== true))
          throw new RealTypeError('checkpoint(): kind must be "confirm", "input" or "select"');
        let choiceJson;
        if (choices !== undefined) {
          if (!isArray(choices)) throw new RealTypeError("checkpoint(): choices must be an array of strings");
          choiceJson = "[";
          for (let i = 0; i < choices.length; i++) {
            const c = choices[i];
            if (typeof c !== "string" || c === "") throw new RealTypeError("checkpoint(): choices must be non-empty strings");
            choiceJson += (i > 0 ? "," : "") + stringify(c);
          }
          choiceJson += "]";
        }
        if (kind === "select" && (choiceJson === undefined || choiceJson === "[]"))
          throw new RealTypeError('checkpoint(): kind "select" needs choices');
        // The bound is what a timer can wait (about 24.8 days).
        if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !isFiniteNumber(timeoutMs) || timeoutMs <= 0 || timeoutMs > 2147483647))
          throw new RealTypeError("checkpoint(): timeoutMs must be a positive number of milliseconds, at most 2147483647");
        if (options.default !== undefined) argsJson += ',"default":' + toJson(options.default, "default");
        if (headless !== undefined) argsJson += ',"headless":' + stringify(headless);
        if (kind !== undefined) argsJson += ',"kind":' + stringify(kind);
        if (choiceJson !== undefined) argsJson += ',"choices":' + choiceJson;
        if (timeoutMs !== undefined) argsJson += ',"timeoutMs":' + stringify(timeoutMs);
      }
      argsJson += "}";
    } catch (e) { return rejected(e); }
    return request("op", "checkpoint", argsJson);
  }

  define(G, "verify", verify);
  define(G, "judgePanel", judgePanel);
  define(G, "loopUntilDry", loopUntilDry);
  define(G, "completenessCheck", completenessCheck);
  define(G, "retry", retry);
  define(G, "checkpoint", checkpoint);
`;

// weft ui (U08): the page. Plain JavaScript, no build step, no network but this server.
// Everything a run or an agent wrote is untrusted text: it only ever reaches the page through
// textContent (never innerHTML), so an agent's output cannot run script here.

const TOKEN = document.querySelector('meta[name="weft-token"]')?.content ?? "";
// The token came in the address; the cookie and the meta tag carry it from now on.
if (location.search.includes("token=")) history.replaceState(null, "", location.pathname + location.hash);

const app = document.getElementById("app");
// Native replaceChildren would print a skipped (null) part as the text "null".
const show = (...parts) =>
  app.replaceChildren(...parts.flat().filter((p) => p !== null && p !== undefined && p !== false));
const conn = document.getElementById("conn");
const teardown = [];

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

async function api(path, body) {
  const res = await fetch(path, {
    method: body ? "POST" : "GET",
    headers: body ? { "content-type": "application/json", "x-weft-token": TOKEN } : { "x-weft-token": TOKEN },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error ?? `HTTP ${res.status}`);
  return data;
}

const fmtTokens = (n) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n ?? 0);
const fmtCost = (n) => (n ? `$${n.toFixed(n < 1 ? 4 : 2)}` : "$0");
function fmtMs(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return "";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
const tokensOf = (u) => (u ? (u.input ?? 0) + (u.output ?? 0) + (u.reasoning ?? 0) : 0);
const stateEl = (s) => h("span", { class: `state s-${s}`, text: s });

function stream(url, handlers) {
  const es = new EventSource(url);
  for (const [name, fn] of Object.entries(handlers)) es.addEventListener(name, fn);
  es.onopen = () => (conn.textContent = "live");
  es.onerror = () => (conn.textContent = "reconnecting…");
  teardown.push(() => es.close());
  return es;
}

function answerBox() {
  const box = h("div", { class: "answer" });
  return {
    el: box,
    show(a) {
      box.className = `answer ${a.state === "applied" || a.state === "started" || a.state === "held" ? "good" : a.state === "refused" || a.state === "failed" ? "bad" : ""}`;
      box.textContent = `${a.state}: ${a.outcome}`;
    },
    error(e) {
      box.className = "answer bad";
      box.textContent = String(e.message ?? e);
    },
  };
}

async function act(runId, body, box) {
  try {
    box.show(await api(`/api/runs/${encodeURIComponent(runId)}/control`, body));
  } catch (e) {
    box.error(e);
  }
}

// ---------------------------------------------------------------- runs page
function runsPage() {
  const filter = h(
    "select",
    { "aria-label": "status" },
    ["all", "running", "waiting", "paused", "completed", "failed", "stopped", "budget_exhausted"].map((s) =>
      h("option", { value: s, text: s }),
    ),
  );
  const search = h("input", { type: "search", placeholder: "name or id", "aria-label": "search" });
  const body = h("tbody");
  const table = h(
    "table",
    { id: "runs" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["status", "name", "id", "agents", "per state", "tokens", "cost", "started", "duration", "gate"].map(
          (t) => h("th", { text: t }),
        ),
      ),
    ),
    body,
  );
  let runs = [];
  const render = () => {
    const q = search.value.trim().toLowerCase();
    const f = filter.value;
    body.replaceChildren(
      ...runs
        .filter(
          (r) =>
            (f === "all" || r.status === f) &&
            (!q || r.name.toLowerCase().includes(q) || r.runId.includes(q)),
        )
        .map((r) =>
          h(
            "tr",
            { "data-run": r.runId },
            h("td", {}, stateEl(r.orphaned ? "orphaned" : r.status)),
            h("td", {}, h("a", { href: `#/run/${encodeURIComponent(r.runId)}`, text: r.name })),
            h("td", { class: "muted", text: r.runId }),
            h("td", { text: `${r.done}/${r.total}` }),
            h("td", {
              class: "muted",
              text: Object.entries(r.agents ?? {})
                .filter(([, n]) => n)
                .map(([k, n]) => `${k} ${n}`)
                .join(" · "),
            }),
            h("td", { text: fmtTokens(tokensOf(r.tokens)) }),
            h("td", { text: fmtCost(r.costUsd) }),
            h("td", { class: "muted", text: r.startedAt ? new Date(r.startedAt).toLocaleString() : "" }),
            h("td", { text: fmtMs(r.elapsedMs) }),
            h("td", { text: r.gate ? r.gate.title : "" }),
          ),
        ),
    );
  };
  filter.addEventListener("change", render);
  search.addEventListener("input", render);
  show(h("h1", { text: "Runs" }), h("div", { class: "toolbar" }, filter, search), table);
  stream("/api/runs/stream", {
    runs: (ev) => {
      runs = JSON.parse(ev.data);
      render();
    },
  });
}

// ---------------------------------------------------------------- run page
class RunModel {
  constructor() {
    this.reset();
  }
  reset() {
    this.phases = [];
    this.phaseOf = new Map();
    this.agents = new Map();
    this.refused = [];
    this.warnings = [];
    this.logs = [];
    this.gates = new Map();
    this.controls = [];
    this.t0 = undefined;
    this.t1 = undefined;
    this.finished = undefined;
    this.limits = undefined;
  }
  phase(title) {
    let p = this.phaseOf.get(title);
    if (!p) {
      p = { title, agents: [] };
      this.phaseOf.set(title, p);
      this.phases.push(p);
    }
    return p;
  }
  apply(e) {
    const at = e.at ? Date.parse(e.at) : Date.now();
    if (this.t0 === undefined || at < this.t0) this.t0 = at;
    if (this.t1 === undefined || at > this.t1) this.t1 = at;
    switch (e.type) {
      case "run.started":
        this.limits = e.limits;
        this.finished = undefined;
        // A new execution: agents of the last one that never finished are not running now.
        for (const a of this.agents.values())
          if (a.state === "running" || a.state === "queued") a.state = "stopped";
        break;
      case "phase":
        this.phase(e.title);
        break;
      case "agent.started": {
        let a = this.agents.get(e.n);
        if (!a) {
          a = { n: e.n, tokens: 0 };
          this.agents.set(e.n, a);
          this.phase(e.phase ?? "").agents.push(a);
        }
        Object.assign(a, {
          label: e.label,
          phase: e.phase,
          state: "running",
          attempt: e.attempt,
          driver: e.driver,
          prompt: e.prompt,
          start: at,
          end: undefined,
        });
        if (e.model) a.model = e.model;
        break;
      }
      case "agent.activity": {
        const a = this.agents.get(e.n);
        if (a) {
          a.activity = e.text;
          if (e.model) a.model = e.model;
        }
        break;
      }
      case "agent.retry": {
        const a = this.agents.get(e.n);
        if (a) a.activity = `retry: ${e.error}`;
        break;
      }
      case "agent.finished": {
        let a = this.agents.get(e.n);
        if (!a) {
          a = { n: e.n };
          this.agents.set(e.n, a);
          this.phase(e.phase ?? "").agents.push(a);
        }
        Object.assign(a, {
          label: e.label ?? a.label,
          phase: e.phase ?? a.phase,
          state: e.cached ? "cached" : e.status,
          tokens: tokensOf(e.usage),
          costUsd: e.usage?.costUsd,
          end: at,
          error: e.error,
        });
        if (a.start === undefined) a.start = e.durationMs ? at - e.durationMs : at;
        break;
      }
      case "agent.refused":
        this.refused.push(e);
        break;
      case "warning":
        this.warnings.push(e.message);
        break;
      case "log":
        this.logs.push(e.message);
        break;
      case "gate.waiting":
        this.gates.set(e.n, { ...e, waiting: true });
        break;
      case "gate.answered":
        this.gates.set(e.n, { ...this.gates.get(e.n), ...e, waiting: false });
        break;
      case "control":
        this.controls.push(e);
        break;
      case "run.finished":
        this.finished = e;
        break;
    }
  }
}

function runPage(runId) {
  const model = new RunModel();
  const header = h("div", { class: "panel", id: "run-header" });
  const gatesEl = h("div", { id: "gates" });
  const controlsBox = answerBox();
  const controls = h(
    "div",
    { class: "toolbar" },
    h("button", {
      class: "danger",
      onclick: () => act(runId, { action: "stop" }, controlsBox),
      text: "Stop run",
    }),
    h("button", { onclick: () => act(runId, { action: "pause" }, controlsBox), text: "Pause" }),
    h("button", {
      class: "primary",
      onclick: () => act(runId, { action: "resume" }, controlsBox),
      text: "Resume",
    }),
    h("a", { href: `#/compare?a=${encodeURIComponent(runId)}`, text: "Compare executions" }),
    controlsBox.el,
  );
  const stateFilter = h(
    "select",
    { "aria-label": "agent state" },
    ["all", "running", "queued", "completed", "cached", "failed", "stopped"].map((s) =>
      h("option", { value: s, text: s }),
    ),
  );
  const list = h("div", { class: "list", id: "agents" });
  const sizer = h("div", { class: "sizer" });
  list.append(sizer);
  const extras = h("div", { id: "extras" });
  show(
    h("h1", { text: runId }),
    header,
    gatesEl,
    controls,
    h("h2", { text: "Phases and agents" }),
    h("div", { class: "toolbar" }, h("span", { class: "muted", text: "show" }), stateFilter),
    list,
    extras,
  );

  let detail;
  const ROW = 24;
  let rows = [];
  const rebuildRows = () => {
    const f = stateFilter.value;
    rows = [];
    for (const p of model.phases) {
      const agents = f === "all" ? p.agents : p.agents.filter((a) => a.state === f);
      if (!p.agents.length && !p.title) continue;
      const counts = {};
      for (const a of p.agents) counts[a.state] = (counts[a.state] ?? 0) + 1;
      rows.push({ phase: p, counts });
      for (const a of agents) rows.push({ agent: a });
    }
  };
  // Rows are made once per agent (or phase) and updated in place: a link or a button under the
  // pointer is never replaced while the run goes on, and a frame touches only visible rows.
  const rowEls = new Map();
  const set = (el, prop, value) => {
    if (el[prop] !== value) el[prop] = value;
  };
  const phaseRow = () => {
    const title = h("span");
    const counts = h("span", { class: "muted" });
    const el = h("div", { class: "row phase" }, title, counts);
    return { el, title, counts };
  };
  const agentRow = (a) => {
    const state = h("span", { class: "state" });
    const link = h("a", { href: `#/run/${encodeURIComponent(runId)}/agent/${a.n}`, text: `#${a.n}` });
    const label = h("span");
    const modelEl = h("span", { class: "muted" });
    const tokens = h("span");
    const time = h("span", { class: "muted" });
    const activity = h("span", { class: "muted" });
    const bar = h("span");
    const stop = h("button", {
      class: "danger",
      onclick: () => act(runId, { action: "stop-agent", agent: a.n }, controlsBox),
      text: "stop",
    });
    const restart = h("button", {
      onclick: () => act(runId, { action: "restart-agent", agent: a.n }, controlsBox),
      text: "restart",
    });
    const el = h(
      "div",
      { class: "row agent", "data-agent": a.n },
      state,
      link,
      label,
      modelEl,
      tokens,
      time,
      activity,
      h("div", { class: "bar", title: "timeline" }, bar),
      h("span", {}, stop, restart),
    );
    return { el, state, label, modelEl, tokens, time, activity, bar, stop, restart };
  };
  const renderRows = () => {
    set(sizer.style, "height", `${rows.length * ROW}px`);
    const top = list.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW) - 10);
    const last = Math.min(rows.length, Math.ceil((top + list.clientHeight) / ROW) + 10);
    const t0 = model.t0 ?? Date.now();
    const span = Math.max(1, (model.finished ? model.t1 : Date.now()) - t0);
    const shown = new Set();
    for (let i = first; i < last; i++) {
      const r = rows[i];
      const key = r.phase ? `p:${r.phase.title}` : `a:${r.agent.n}`;
      shown.add(key);
      let x = rowEls.get(key);
      if (!x) {
        x = r.phase ? phaseRow() : agentRow(r.agent);
        rowEls.set(key, x);
      }
      set(x.el.style, "top", `${i * ROW}px`);
      if (!x.el.isConnected) sizer.append(x.el);
      if (r.phase) {
        set(x.title, "textContent", r.phase.title || "(no phase)");
        set(
          x.counts,
          "textContent",
          Object.entries(r.counts)
            .map(([k, n]) => `${k} ${n}`)
            .join(" · "),
        );
        continue;
      }
      const a = r.agent;
      const end = a.end ?? Date.now();
      const left = (((a.start ?? end) - t0) / span) * 100;
      const width = Math.max(0.3, ((end - (a.start ?? end)) / span) * 100);
      set(x.state, "className", `state s-${a.state}`);
      set(x.state, "textContent", a.state);
      set(x.label, "textContent", a.label ?? a.prompt ?? "");
      set(x.modelEl, "textContent", a.model ?? "");
      set(x.tokens, "textContent", fmtTokens(a.tokens ?? 0));
      set(
        x.time,
        "textContent",
        fmtMs((a.end ?? (a.state === "running" ? Date.now() : a.start)) - (a.start ?? 0)),
      );
      set(x.activity, "textContent", a.error ?? a.activity ?? "");
      set(x.bar, "className", `s-${a.state}`);
      set(x.bar.style, "left", `${left.toFixed(2)}%`);
      set(x.bar.style, "width", `${width.toFixed(2)}%`);
      set(x.stop.style, "visibility", a.state === "running" ? "visible" : "hidden");
      set(x.restart.style, "visibility", a.state === "running" ? "visible" : "hidden");
    }
    for (const [key, x] of rowEls) {
      if (shown.has(key)) continue;
      x.el.remove();
      // Off screen: forget it, so a 10,000-agent run keeps only what is visible.
      rowEls.delete(key);
    }
  };
  list.addEventListener("scroll", () => requestAnimationFrame(renderRows));
  stateFilter.addEventListener("change", () => {
    rebuildRows();
    renderRows();
  });

  const renderHeader = () => {
    const s = detail?.status;
    const counts = { queued: 0, running: 0, completed: 0, cached: 0, failed: 0, stopped: 0 };
    for (const a of model.agents.values()) counts[a.state] = (counts[a.state] ?? 0) + 1;
    const tokens = s
      ? tokensOf(s.tokens)
      : [...model.agents.values()].reduce((t, a) => t + (a.tokens ?? 0), 0);
    const status = model.finished?.status ?? s?.status ?? "running";
    const lim = model.limits;
    header.replaceChildren(
      h(
        "div",
        { class: "kv" },
        h("dt", { text: "status" }),
        h("dd", {}, stateEl(s?.orphaned && !model.finished ? "orphaned" : status)),
        h("dt", { text: "name" }),
        h("dd", { text: s?.name ?? "" }),
        h("dt", { text: "agents" }),
        h("dd", {
          text:
            Object.entries(counts)
              .filter(([, n]) => n)
              .map(([k, n]) => `${k} ${n}`)
              .join(" · ") || "none yet",
        }),
        h("dt", { text: "tokens" }),
        h("dd", { text: `${fmtTokens(tokens)}${lim?.budget ? ` of ${fmtTokens(lim.budget)}` : ""}` }),
        h("dt", { text: "cost" }),
        h("dd", {
          text: `${fmtCost(s?.costUsd ?? 0)}${lim?.maxCostUsd ? ` of ${fmtCost(lim.maxCostUsd)}` : ""}`,
        }),
        h("dt", { text: "elapsed" }),
        h("dd", { text: fmtMs(s?.elapsedMs) }),
        s?.error ? [h("dt", { text: "error" }), h("dd", { class: "s-failed", text: s.error })] : null,
      ),
    );
    const waiting = [...model.gates.values()].filter((g) => g.waiting);
    gatesEl.replaceChildren(
      ...waiting.map((g) => {
        const reason = h("input", { placeholder: "reason (optional)", "aria-label": "reason" });
        const box = answerBox();
        return h(
          "div",
          { class: "panel gate", "data-gate": g.n },
          h("strong", { text: `Gate ${g.n}: ${g.title}` }),
          g.details !== undefined
            ? h("pre", {
                text: typeof g.details === "string" ? g.details : JSON.stringify(g.details, null, 2),
              })
            : null,
          h(
            "div",
            { class: "toolbar" },
            reason,
            h("button", {
              class: "primary",
              onclick: () => act(runId, { action: "approve", gate: g.n, reason: reason.value }, box),
              text: "Approve",
            }),
            h("button", {
              class: "danger",
              onclick: () => act(runId, { action: "reject", gate: g.n, reason: reason.value }, box),
              text: "Reject",
            }),
          ),
          box.el,
        );
      }),
    );
  };

  const renderExtras = () => {
    const parts = [];
    const listOf = (title, items, fmt) => {
      if (!items.length) return;
      parts.push(
        h("h2", { text: `${title} (${items.length})` }),
        h(
          "ul",
          {},
          items.slice(-200).map((x) => h("li", { text: fmt(x) })),
        ),
      );
    };
    listOf("Refused calls", model.refused, (r) => `${r.label ? `${r.label}: ` : ""}${r.reason}`);
    listOf("Warnings", model.warnings, (w) => w);
    listOf("Log", model.logs, (l) => l);
    listOf("Control", model.controls, (c) => `${c.request?.type}: ${c.ok ? "" : "refused: "}${c.outcome}`);
    const result = model.finished ? model.finished.result : detail?.summary?.result;
    if (result !== undefined)
      parts.push(
        h("h2", { text: "Result" }),
        h("pre", { id: "result", text: JSON.stringify(result, null, 2) }),
      );
    extras.replaceChildren(...parts);
  };

  let queued = false;
  let structural = true;
  const schedule = (rebuild) => {
    structural ||= rebuild;
    if (queued) return;
    queued = true;
    // Batched: however many events arrive, the page draws at most five times a second.
    setTimeout(() => {
      queued = false;
      if (structural) rebuildRows();
      structural = false;
      renderRows();
      renderHeader();
      renderExtras();
    }, 200);
  };
  const refresh = async () => {
    try {
      detail = await api(`/api/runs/${encodeURIComponent(runId)}`);
      schedule(false);
    } catch (e) {
      header.textContent = e.message;
    }
  };
  refresh();
  const timer = setInterval(refresh, 2000);
  teardown.push(() => clearInterval(timer));
  stream(`/api/runs/${encodeURIComponent(runId)}/events`, {
    reset: () => {
      model.reset();
      schedule(true);
    },
    events: (ev) => {
      for (const line of ev.data.split("\n")) {
        if (!line) continue;
        try {
          model.apply(JSON.parse(line));
        } catch {
          // A damaged line: skip it, keep the rest.
        }
      }
      schedule(true);
    },
  });
}

// ---------------------------------------------------------------- agent view
async function agentPage(runId, n) {
  show(h("p", { class: "muted", text: "loading…" }));
  let d;
  try {
    d = await api(`/api/runs/${encodeURIComponent(runId)}/agents/${n}`);
  } catch (e) {
    show(h("p", { class: "s-failed", text: e.message }));
    return;
  }
  const r = d.record;
  const box = answerBox();
  const known = new Set([
    "n",
    "label",
    "phase",
    "status",
    "prompt",
    "options",
    "result",
    "usage",
    "driver",
    "model",
    "sessionId",
    "attempts",
    "key",
    "startedAt",
    "durationMs",
    "error",
  ]);
  const rest = Object.fromEntries(Object.entries(r).filter(([k]) => !known.has(k)));
  const resultText =
    r.result === undefined ? "" : typeof r.result === "string" ? r.result : JSON.stringify(r.result, null, 2);
  show(
    h("p", {}, h("a", { href: `#/run/${encodeURIComponent(runId)}`, text: `← ${runId}` })),
    h("h1", { text: `#${r.n} ${r.label ?? ""}` }),
    h(
      "div",
      { class: "toolbar" },
      r.status === "running" || r.status === undefined
        ? h("button", {
            class: "danger",
            onclick: () => act(runId, { action: "stop-agent", agent: r.n }, box),
            text: "Stop agent",
          })
        : null,
      r.status === "running" || r.status === undefined
        ? h("button", {
            onclick: () => act(runId, { action: "restart-agent", agent: r.n }, box),
            text: "Restart agent",
          })
        : null,
      h("button", {
        onclick: () => act(runId, { action: "fork", agent: r.n }, box),
        text: "Fork from this agent",
      }),
      box.el,
    ),
    h(
      "div",
      { class: "panel kv" },
      h("dt", { text: "status" }),
      h("dd", {}, stateEl(r.status ?? "unknown")),
      h("dt", { text: "phase" }),
      h("dd", { text: r.phase ?? "" }),
      h("dt", { text: "driver" }),
      h("dd", { text: r.driver ?? "" }),
      h("dt", { text: "model" }),
      h("dd", { text: r.model ?? "" }),
      h("dt", { text: "session" }),
      h("dd", { text: r.sessionId ?? "" }),
      h("dt", { text: "attempts" }),
      h("dd", { text: String(r.attempts ?? "") }),
      h("dt", { text: "tokens" }),
      h("dd", {
        text: r.usage
          ? `in ${r.usage.input ?? 0} · out ${r.usage.output ?? 0} · cached ${r.usage.cached ?? 0} · reasoning ${r.usage.reasoning ?? 0}`
          : "",
      }),
      h("dt", { text: "cost" }),
      h("dd", { text: fmtCost(r.usage?.costUsd) }),
      h("dt", { text: "time" }),
      h("dd", { text: `${r.startedAt ?? ""} · ${fmtMs(r.durationMs)}` }),
      r.error ? [h("dt", { text: "error" }), h("dd", { class: "s-failed", text: r.error })] : null,
    ),
    h("h2", { text: "Prompt" }),
    h("pre", { id: "prompt", text: r.prompt ?? "" }),
    h("h2", { text: "Options" }),
    h("pre", { text: JSON.stringify(r.options ?? {}, null, 2) }),
    h("h2", { text: "Result" }),
    h("pre", { id: "agent-result", text: resultText }),
    Object.keys(rest).length
      ? [h("h2", { text: "Attempts, verify, worktree" }), h("pre", { text: JSON.stringify(rest, null, 2) })]
      : null,
    h("h2", { text: `Transcript (${d.turns.length} turns${d.turnsTruncated ? ", truncated" : ""})` }),
    h("div", { id: "transcript" }, d.turns.map(turnEl)),
    d.patch !== undefined ? [h("h2", { text: "Patch" }), diffEl(d.patch)] : null,
  );
}

function turnEl(t) {
  if (t.type === "text")
    return h(
      "div",
      { class: "turn text" },
      h("div", { class: "who", text: "agent" }),
      h("div", { text: t.text }),
    );
  if (t.type === "tool_call")
    return h(
      "div",
      { class: "turn tool_call" },
      h("div", { class: "who", text: `tool call: ${t.name}` }),
      t.input !== undefined
        ? h("pre", { text: typeof t.input === "string" ? t.input : JSON.stringify(t.input, null, 2) })
        : null,
    );
  if (t.type === "tool_result")
    return h(
      "div",
      { class: "turn tool_result" },
      h("div", {
        class: "who",
        text: `result${t.name ? ` of ${t.name}` : ""}${t.isError ? " (error)" : ""}`,
      }),
      h("pre", { text: t.output ?? "" }),
    );
  if (t.type === "stderr")
    return h(
      "div",
      { class: "turn stderr" },
      h("div", { class: "who", text: "stderr" }),
      h("pre", { text: t.text }),
    );
  if (t.type === "error")
    return h(
      "div",
      { class: "turn error" },
      h("div", { class: "who", text: "error" }),
      h("div", { text: t.message }),
    );
  return h("div", { class: "turn" }, h("pre", { text: JSON.stringify(t) }));
}

function diffEl(patch) {
  return h(
    "pre",
    { class: "diff", id: "patch" },
    patch.split("\n").map((l) =>
      h("div", {
        class:
          l.startsWith("+") && !l.startsWith("+++")
            ? "add"
            : l.startsWith("-") && !l.startsWith("---")
              ? "del"
              : l.startsWith("@@")
                ? "hunk"
                : "",
        text: l || " ",
      }),
    ),
  );
}

// ---------------------------------------------------------------- compare
async function comparePage(params) {
  const a = h("input", { placeholder: "run A", value: params.get("a") ?? "", "aria-label": "run A" });
  const ea = h("input", {
    placeholder: "execution",
    value: params.get("ea") ?? "",
    size: 4,
    "aria-label": "execution A",
  });
  const b = h("input", {
    placeholder: "run B (default: A)",
    value: params.get("b") ?? "",
    "aria-label": "run B",
  });
  const eb = h("input", {
    placeholder: "execution",
    value: params.get("eb") ?? "",
    size: 4,
    "aria-label": "execution B",
  });
  const out = h("div", { id: "comparison" });
  const go = () => {
    const q = new URLSearchParams();
    if (a.value) q.set("a", a.value.trim());
    if (b.value) q.set("b", b.value.trim());
    if (ea.value) q.set("ea", ea.value.trim());
    if (eb.value) q.set("eb", eb.value.trim());
    location.hash = `#/compare?${q}`;
  };
  show(
    h("h1", { text: "Compare two runs" }),
    h("p", {
      class: "muted",
      text: "Call by call, matched by cache key and then by label. One run alone compares its last two executions (an edited resume).",
    }),
    h(
      "div",
      { class: "toolbar" },
      a,
      ea,
      b,
      eb,
      h("button", { class: "primary", onclick: go, text: "Compare" }),
    ),
    out,
  );
  if (!params.get("a")) return;
  let c;
  try {
    const q = new URLSearchParams(params);
    c = await api(`/api/compare?${q}`);
  } catch (e) {
    out.replaceChildren(h("p", { class: "s-failed", text: e.message }));
    return;
  }
  const side = (s) =>
    s
      ? [
          h("td", { text: `#${s.n}` }),
          h("td", {}, stateEl(s.status)),
          h("td", { text: fmtTokens(s.tokens) }),
          h("td", { text: fmtCost(s.costUsd) }),
          h("td", { text: fmtMs(s.durationMs) }),
          h("td", { class: "wrap muted", text: (s.result ?? "").slice(0, 200) }),
        ]
      : [h("td", { colspan: 6, class: "muted", text: "—" })];
  out.replaceChildren(
    h("p", {
      text: `A: ${c.a.run} execution ${c.a.index} · B: ${c.b.run} execution ${c.b.index} · ${Object.entries(
        c.totals,
      )
        .map(([k, n]) => `${k} ${n}`)
        .join(" · ")}`,
    }),
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          [
            "change",
            "label",
            "A",
            "state",
            "tokens",
            "cost",
            "time",
            "result",
            "B",
            "state",
            "tokens",
            "cost",
            "time",
            "result",
          ].map((t) => h("th", { text: t })),
        ),
      ),
      h(
        "tbody",
        {},
        c.rows.map((r) =>
          h(
            "tr",
            { "data-change": r.change },
            h("td", { class: `c-${r.change}`, text: r.change }),
            h("td", { text: r.b?.label ?? r.a?.label ?? "" }),
            side(r.a),
            side(r.b),
          ),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------- routing
function route() {
  for (const t of teardown.splice(0)) t();
  conn.textContent = "";
  const hash = location.hash.slice(1) || "/";
  const [path, query] = hash.split("?");
  const agent = /^\/run\/([^/]+)\/agent\/(\d+)$/.exec(path);
  if (agent) return agentPage(decodeURIComponent(agent[1]), Number(agent[2]));
  const run = /^\/run\/([^/]+)$/.exec(path);
  if (run) return runPage(decodeURIComponent(run[1]));
  if (path === "/compare") return comparePage(new URLSearchParams(query ?? ""));
  return runsPage();
}
window.addEventListener("hashchange", route);
route();

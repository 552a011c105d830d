// The web app of `rolegraph serve`: the agents, each one's graph and a form to run it,
// a run live (its events over SSE), and the runs the store keeps, with their traces.
// Plain DOM and fetch; every value from the server is set as text, never as HTML.
"use strict";

const main = document.getElementById("main");
let current = null;  // what the page shows now: {close()} to stop following a run

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw Object.assign(new Error(`${url}: ${response.status}`), { body });
  return body;
}

function diagnosticsBlock(body) {
  const list = (body && body.diagnostics) || [];
  return el("div", { class: "diagnostics" },
    list.map((d) => el("pre", { class: "diagnostic" }, d.rendered || `${d.code}: ${d.message}`)));
}

function json(value) {
  return JSON.stringify(value, null, 2);
}

function valueCell(value) {
  if (value === undefined) return el("td", { class: "value" });
  const text = json(value);
  if (text.length < 80) return el("td", { class: "value mono" }, text);
  return el("td", { class: "value" },
    el("details", {}, el("summary", {}, text.slice(0, 60) + "…"), el("pre", {}, text)));
}

function badge(text, kind) {
  return el("span", { class: `badge ${kind}-${text.split(":")[0]}` }, text);
}

function when(seconds) {
  return seconds ? new Date(seconds * 1000).toLocaleString() : "";
}

// -- pages -------------------------------------------------------------------------------

async function home() {
  const [agents, files, runs] = await Promise.all([
    getJSON("/agents"), getJSON("/files"), getJSON("/runs?limit=20")]);
  const broken = files.filter((f) => f.errors);
  main.replaceChildren(
    el("h1", {}, "Agents"),
    el("div", { class: "grid", id: "agents" }, agents.map((a) => el("div", { class: "card agent" },
      el("a", { class: "title", href: `#/agent/${encodeURIComponent(a.name)}` }, a.name),
      el("div", { class: "mono" },
        `(${Object.entries(a.params).map(([k, t]) => `${k}: ${t}`).join(", ")}) -> ${a.returns}`),
      el("div", { class: "muted" }, `${a.file.split("/").pop()} · at most ${a.worst_case_calls} model calls`)))),
    broken.length ? el("h2", {}, "Files with errors") : "",
    broken.map((f) => el("div", { class: "card" }, el("b", {}, f.file),
      f.diagnostics.filter((d) => d.severity === "error").map((d) => el("pre", { class: "diagnostic" }, d.rendered)))),
    el("h2", {}, "Recent runs"),
    runsTable(runs));
}

//: a node's colour in the graph by the status of its firing (one not listed gives none)
const COLOURS = { running: "running", paused: "running", ok: "done", failed: "failed" };

// each node's colour: that of its latest firing (in logical time) that has one, as the
// live events have them and as the trace has them; a discarded firing is not in the run
function nodeColours(records) {
  const colours = {};
  for (const record of [...records].sort((a, b) => a.time - b.time)) {
    const colour = COLOURS[record.status];
    if (colour !== undefined) colours[record.node] = colour;
  }
  return colours;
}

function runsTable(runs) {
  if (!runs.length) return el("p", { class: "muted", id: "runs" }, "No runs yet.");
  return el("table", { id: "runs" },
    el("tr", {}, ["run", "agent", "state", "accepted", "firings", "calls", "tokens"].map((h, i) =>
      el("th", { class: i >= 4 ? "num" : "" }, h))),
    runs.map((r) => el("tr", { class: "run", "data-run": r.id },
      el("td", { class: "mono" }, el("a", { href: `#/run/${r.id}` }, r.id)),
      el("td", {}, el("a", { href: `#/agent/${encodeURIComponent(r.agent)}` }, r.agent)),
      el("td", {}, badge(r.state, "state")),
      el("td", { class: "muted" }, when(r.accepted)),
      el("td", { class: "num" }, r.summary ? r.summary.firings : ""),
      el("td", { class: "num" }, r.summary ? r.summary.calls : ""),
      el("td", { class: "num" }, r.summary ? r.summary.input_tokens + r.summary.output_tokens : ""))));
}

async function runsPage() {
  const runs = await getJSON("/runs?limit=200");
  main.replaceChildren(el("h1", {}, "Runs"), runsTable(runs));
}

async function agentPage(name) {
  const agent = await getJSON(`/agents/${encodeURIComponent(name)}`);
  const runs = await getJSON(`/runs?agent=${encodeURIComponent(name)}&limit=20`);
  const graph = agent.graph;
  main.replaceChildren(
    el("h1", {}, agent.name, " ", el("span", { class: "muted mono" },
      `(${Object.entries(agent.params).map(([k, t]) => `${k}: ${t}`).join(", ")}) -> ${agent.returns}`)),
    el("div", { class: "muted" }, `${agent.file} · at most ${agent.worst_case_calls} model calls per run`),
    el("div", { class: "columns" },
      el("section", {},
        el("h2", {}, "Graph"),
        legend(),
        el("div", { id: "graph" }, window.rolegraphGraph.drawGraph(graph)),
        el("h2", {}, "Constraints"),
        constraintsBlock(graph.constraints),
        agent.warnings.length ? el("h2", {}, "Warnings") : "",
        agent.warnings.map((d) => el("pre", { class: "diagnostic" }, d.rendered))),
      el("section", {},
        el("h2", {}, "Run it"),
        runForm(agent),
        el("h2", {}, "Runs"),
        runsTable(runs))));
}

function legend() {
  return el("div", { class: "legend" },
    el("span", {}, el("i", { style: "border-color: var(--data)" }), "data"),
    el("span", {}, el("i", { style: "border-color: var(--control); border-top-style: dashed" }), "control (guard, bound)"),
    el("span", {}, el("i", { style: "border-color: var(--loop); border-top-style: dashed" }), "loop (max N)"),
    el("span", {}, el("i", { style: "border-color: var(--ret)" }), "return"));
}

function constraintsBlock(constraints) {
  if (!constraints.length) return el("p", { class: "muted" }, "None declared.");
  return el("div", { id: "constraints" }, constraints.map((c) => el("div", { class: "card constraint" },
    el("code", {}, `${c.mode} ${c.text}`), " ",
    badge(c.status, "verdict"),
    c.status === "proven" ? el("span", { class: "muted" }, ` on every run (${c.states} states explored)`) : "",
    c.counterexample ? el("details", {}, el("summary", {}, "counterexample"),
      el("ol", {}, c.counterexample.story.map((s) => el("li", {}, s)))) : "")));
}

// -- the form, from the inputs' JSON schema ----------------------------------------------

function skeleton(schema) {
  if (!schema) return null;
  if ("default" in schema) return schema.default;
  if (schema.anyOf) return null;
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case "string": return "";
    case "integer": case "number": return 0;
    case "boolean": return false;
    case "array": return [];
    case "object":
      if (schema.properties) return Object.fromEntries(
        Object.entries(schema.properties).map(([k, s]) => [k, skeleton(s)]));
      return {};
  }
  return null;
}

function field(name, schema, required, declared, prefix = "input") {
  const id = `${prefix}-${name}`;
  const optional = schema.anyOf && schema.anyOf.some((s) => s.type === "null");
  const inner = optional ? schema.anyOf.find((s) => s.type !== "null") : schema;
  const typeText = declared || (optional ? `${inner.type || "value"}?` : schema.type || "any");
  const label = el("label", { for: id }, name, " ", el("span", { class: "muted" },
    typeText + (required ? "" : " (has a default)")));
  let input, read;
  if (inner.enum) {
    input = el("select", { id, name }, inner.enum.map((v) => el("option", { value: v }, v)));
    if (schema.default !== undefined) input.value = schema.default;
    read = () => input.value;
  } else if (inner.type === "boolean") {
    input = el("input", { id, name, type: "checkbox" });
    input.checked = !!schema.default;
    read = () => input.checked;
  } else if (inner.type === "integer" || inner.type === "number") {
    input = el("input", { id, name, type: "number", step: inner.type === "integer" ? "1" : "any" });
    if (schema.default !== undefined && schema.default !== null) input.value = schema.default;
    read = () => input.value === "" ? (optional ? null : NaN) : Number(input.value);
  } else if (inner.type === "string") {
    input = el("textarea", { id, name, rows: 2 });
    input.value = schema.default !== undefined && schema.default !== null ? schema.default : "";
    read = () => optional && input.value === "" ? null : input.value;
  } else {
    input = el("textarea", { id, name, rows: 4, class: "json" });
    input.value = json(schema.default !== undefined ? schema.default : skeleton(inner));
    read = () => JSON.parse(input.value);
  }
  return { node: el("div", { class: "field" }, label, input), read, name };
}

function runForm(agent) {
  const schema = agent.inputs_schema;
  const fields = Object.entries(schema.properties).map(([name, s]) =>
    field(name, s, schema.required.includes(name), agent.params[name]));
  const problems = el("div", { id: "problems" });
  const button = el("button", { type: "submit", id: "start" }, "Start run");
  // (novalidate: the server checks the inputs, and says why one does not fit)
  const form = el("form", { id: "run-form", class: "card", novalidate: true },
    fields.length ? fields.map((f) => f.node) : el("p", { class: "muted" }, "No inputs."),
    el("div", { class: "muted" }, "The server's model answers (mock unless it was started with --model)."),
    button, problems);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problems.replaceChildren();
    const inputs = {};
    try {
      for (const f of fields) inputs[f.name] = f.read();
    } catch (error) {
      problems.append(el("pre", { class: "diagnostic" }, `not JSON: ${error.message}`));
      return;
    }
    button.disabled = true;
    const response = await fetch(`/agents/${encodeURIComponent(agent.name)}/runs`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(inputs) });
    button.disabled = false;
    const body = await response.json();
    if (response.status === 202) location.hash = `#/run/${body.id}`;
    else problems.append(diagnosticsBlock(body));
  });
  return form;
}

// -- human questions: a form from the answer's JSON schema ---------------------------------

function answerFields(question) {
  // an answer that is an object gets a field per member (as an agent's inputs do);
  // any other answer, one field
  const schema = question.schema || {};
  const prefix = `answer-${question.id}`;
  if (schema.type === "object" && schema.properties) {
    const required = schema.required || [];
    const fields = Object.entries(schema.properties).map(([name, s]) =>
      field(name, s, required.includes(name), null, prefix));
    return { fields, read: () => Object.fromEntries(fields.map((f) => [f.name, f.read()])) };
  }
  const one = field("answer", schema, true, null, prefix);
  return { fields: [one], read: () => one.read() };
}

function questionForm(run, question, onAnswered) {
  const { fields, read } = answerFields(question);
  const problems = el("div", { class: "problems" });
  const button = el("button", { type: "submit", class: "answer" }, "Answer");
  const form = el("form", { class: "card question", "data-question": question.id, novalidate: true },
    el("div", {}, el("b", {}, question.step), " ", el("span", { class: "muted mono" }, question.id),
      question.deadline ? el("span", { class: "muted" }, ` · answer by ${when(question.deadline)}`) : ""),
    el("div", { class: "asked" }, question.text),
    fields.map((f) => f.node), button, problems);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problems.replaceChildren();
    let value;
    try {
      value = read();
    } catch (error) {
      problems.append(el("pre", { class: "diagnostic" }, `not JSON: ${error.message}`));
      return;
    }
    button.disabled = true;
    const response = await fetch(`/runs/${run}/questions/${encodeURIComponent(question.id)}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(value) });
    const body = await response.json();
    if (!response.ok) {
      button.disabled = false;
      problems.append(diagnosticsBlock(body));
      return;
    }
    form.replaceChildren(el("div", {}, el("b", {}, question.step), " ",
      el("span", { class: "answered" }, "answered"), " ", el("span", { class: "mono" }, json(value))));
    onAnswered(body);
  });
  return form;
}

// -- a run, live or past ------------------------------------------------------------------

async function runPage(id) {
  const run = await getJSON(`/runs/${id}`);
  let agent = null;
  try { agent = await getJSON(`/agents/${encodeURIComponent(run.agent)}`); } catch (e) { agent = null; }
  const view = new RunView(run, agent);
  main.replaceChildren(view.root);
  if (["returned", "failed", "interrupted"].includes(run.state)) await view.loadTrace();
  else view.follow();
  current = view;
}

class RunView {
  constructor(run, agent) {
    this.run = run;
    this.agent = agent;
    this.firings = new Map();  // key -> {record, row}
    this.started = Date.now();
    this.state = el("span", { id: "run-state" }, badge(run.state, "state"));
    this.graph = el("div", { id: "graph" });
    this.table = el("table", { id: "firings" });
    this.outcome = el("div", { id: "outcome" });
    this.questions = el("div", { id: "questions" });
    this.questionsTitle = el("h2", {}, "Questions asked");
    this.forms = new Map();  // question id -> its form
    this.waiting = false;
    this.totals = el("div", { class: "totals", id: "totals" });
    this.root = el("div", {},
      el("h1", {}, "Run ", el("span", { class: "mono" }, run.id), " ", this.state),
      el("div", { class: "muted" }, "agent ",
        el("a", { href: `#/agent/${encodeURIComponent(run.agent)}` }, run.agent),
        ` · model ${run.model || "declared"} · accepted ${when(run.accepted)}`,
        run.attempts > 1 ? ` · resumed (attempt ${run.attempts})` : "",
        " · ", el("a", { href: `/runs/${run.id}/trace` }, "trace (JSON)")),
      el("h2", {}, "Inputs"), el("pre", {}, json(run.inputs)),
      el("div", { class: "columns" },
        el("section", {}, el("h2", {}, "Firings, by logical time"), this.table, this.totals),
        el("section", {}, this.questions, el("h2", {}, "Outcome"), this.outcome,
          el("h2", {}, "Graph"), this.graph)));
    this.renderTable();
    this.drawGraph();
  }

  drawGraph() {
    if (!this.agent) return;
    const colours = nodeColours([...this.firings.values()].map((entry) => entry.record));
    this.graph.replaceChildren(window.rolegraphGraph.drawGraph(this.agent.graph, colours));
  }

  setState(state) {
    this.state.replaceChildren(badge(state, "state"));
  }

  // events as SSE; a server restarted meanwhile tells the run again from its start
  follow() {
    this.source = new EventSource(`/runs/${this.run.id}/events`);
    const on = (kind, handler) => this.source.addEventListener(kind, (m) => handler(JSON.parse(m.data)));
    on("run_started", (e) => {
      if (!e.path.length) { this.reset(); this.clearQuestions(); }
      this.setState("running");
    });
    on("question", (e) => this.asked({ id: e.question, node: e.node, step: e.step, text: e.text,
      schema: e.schema, deadline: e.deadline }));
    on("paused", (e) => this.ask(e.questions));
    on("firing_started", (e) => { if (!e.path.length) this.started_(e); });
    for (const kind of ["firing_finished", "firing_failed", "firing_cancelled", "firing_skipped"])
      on(kind, (e) => { if (!e.path.length) this.ended(e); });
    on("firing_discarded", (e) => { if (!e.path.length) this.discarded(e); });
    on("tokens", (e) => { if (!e.path.length) this.text(e); });
    on("result", (e) => this.finish(e));
    on("error", (e) => this.finish(e));
    this.source.addEventListener("error", () => {
      document.getElementById("connection").textContent =
        this.source.readyState === EventSource.CONNECTING ? "reconnecting…" : "";
    });
    this.source.addEventListener("open", () => {
      document.getElementById("connection").textContent = "";
    });
  }

  close() {
    if (this.source) this.source.close();
  }

  // a question asked: its form at once (the run may go on with other branches; an answer
  // given meanwhile is taken when it pauses)
  asked(question) {
    if (this.forms.has(question.id)) return;
    const form = questionForm(this.run.id, question, (answered) => {
      if (this.waiting && answered.pending.length === 0) this.setState("resuming");
    });
    this.forms.set(question.id, form);
    if (!this.questions.childNodes.length) this.questions.append(this.questionsTitle);
    this.questions.append(form);
  }

  clearQuestions() {
    this.forms.clear();
    this.waiting = false;
    this.questionsTitle.textContent = "Questions asked";
    this.questions.replaceChildren();
  }

  // the run waits for answers: a form for each question (the stream stays open, and goes
  // on with the resumed run when the last one is answered)
  ask(questions) {
    this.waiting = true;
    this.setState("waiting");
    this.questionsTitle.textContent = "Waiting for answers";
    // (a firing that asked is parked: no event ends it; the trace says `paused`)
    const asking = new Set(questions.map((q) => q.node));
    for (const entry of this.firings.values())
      if (entry.record.status === "running" && asking.has(entry.record.node))
        entry.record = { ...entry.record, status: "paused" };
    this.renderTable();
    for (const q of questions) this.asked(q);
  }

  reset() {
    this.firings.clear();
    this.renderTable();
    this.drawGraph();
  }

  started_(e) {
    this.firings.set(e.key, { record: { node: e.node, time: e.time, key: e.key, status: "running",
      inputs: e.inputs }, text: "" });
    this.renderTable();
    this.drawGraph();
  }

  text(e) {
    const entry = this.firings.get(e.key);
    if (!entry) return;
    if (entry.attempt !== e.attempt || entry.call !== e.call) {
      entry.text = ""; entry.attempt = e.attempt; entry.call = e.call;
    }
    entry.text += e.text;
    const cell = this.table.querySelector(`tr[data-key="${CSS.escape(e.key)}"] .stream`);
    if (cell) cell.textContent = entry.text.slice(-160);
  }

  ended(e) {
    this.firings.set(e.key, { record: e, text: "" });
    this.renderTable();
    this.drawGraph();
  }

  discarded(e) {
    const entry = this.firings.get(e.key);
    if (entry) entry.record = { ...entry.record, status: "discarded" };
    this.renderTable();
    this.drawGraph();
  }

  async finish(e) {
    this.close();
    this.setState(e.kind === "result" ? "returned" : "failed");
    await this.loadTrace();
  }

  async loadTrace() {
    const run = await getJSON(`/runs/${this.run.id}`);
    this.setState(run.state);
    let lines = [];
    try { lines = await getJSON(`/runs/${this.run.id}/trace`); } catch (e) { lines = []; }
    this.firings.clear();
    for (const line of lines) {
      if (line.event === "end" || line.depth) continue;
      this.firings.set(line.key, { record: line, text: "" });
    }
    this.renderTable();
    this.drawGraph();
    const end = lines.find((l) => l.event === "end") || run.summary || {};
    this.totals.replaceChildren(
      ...["firings", "calls", "cached_calls", "input_tokens", "output_tokens", "cost"].map((k) =>
        el("span", {}, `${k.replace("_", " ")}: `, el("b", {}, end[k] !== undefined ? end[k] : "")))
    );
    this.outcome.replaceChildren(run.state === "returned"
      ? el("div", {}, el("div", { class: "muted" }, `returned at logical time ${end.returned_at}`),
        el("pre", { id: "result" }, json(run.result)))
      : el("pre", { class: "diagnostic", id: "failure" }, `${run.error || run.state}: ${run.message || ""}`));
  }

  renderTable() {
    const records = [...this.firings.values()];
    const times = [...new Set(records.map((r) => r.record.time))].sort((a, b) => a - b);
    const header = el("tr", {}, ["node", "status", "inputs", "output", "tokens in / out", "cost", "latency"]
      .map((h, i) => el("th", { class: i >= 4 ? "num" : "" }, h)));
    const rows = [];
    for (const t of times) {
      rows.push(el("tr", { class: "step" }, el("td", { colspan: 7 }, `logical time ${t}`)));
      for (const { record: r, text } of records.filter((x) => x.record.time === t)) {
        const running = r.status === "running";
        const open = running || (r.status === "paused" && r.cost === undefined);
        rows.push(el("tr", { class: `firing status-${r.status}`, "data-key": r.key, "data-node": r.node },
          el("td", { class: "mono" }, r.node),
          el("td", {}, badge(r.status, "status"),
            r.notes && r.notes.length ? el("div", { class: "muted" }, r.notes.join("; ")) : ""),
          valueCell(r.inputs),
          running ? el("td", { class: "stream mono" }, text)
            : r.status === "paused" && r.output === undefined
              ? el("td", { class: "muted" }, "waiting for an answer")
            : r.status === "failed" ? el("td", { class: "mono status-failed" }, r.error || "")
              : valueCell(r.output),
          el("td", { class: "num" }, open ? "" : `${r.input_tokens} / ${r.output_tokens}`),
          el("td", { class: "num" }, open ? "" : `$${Number(r.cost).toFixed(6)}`),
          el("td", { class: "num" }, open ? "…" : `${Number(r.latency_ms).toFixed(1)} ms`)));
      }
    }
    this.table.replaceChildren(header, ...rows);
  }
}

// -- routing -------------------------------------------------------------------------------

async function route() {
  if (current && current.close) current.close();
  current = null;
  const hash = location.hash.replace(/^#\/?/, "");
  const [page, ...rest] = hash.split("/");
  const arg = decodeURIComponent(rest.join("/"));
  try {
    if (page === "agent" && arg) await agentPage(arg);
    else if (page === "run" && arg) await runPage(arg);
    else if (page === "runs") await runsPage();
    else if (page === "searches") await searchesPage();  // (searches.js)
    else if (page === "search" && arg) await searchPage(arg);
    else await home();
  } catch (error) {
    main.replaceChildren(el("h1", {}, "Not found"), error.body ? diagnosticsBlock(error.body)
      : el("pre", { class: "diagnostic" }, String(error)));
  }
}

window.addEventListener("hashchange", route);
route();

// eCommerce jobs: the back-office page of the job system. Plain JavaScript, no build step.
// Every piece of job data reaches the DOM through textContent, never innerHTML.
"use strict";

const TOKEN_KEY = "jobs.token";
const REFRESH_KEY = "jobs.refreshSeconds";
const OPEN_STATES = new Set(["pending", "running"]);
const PAGE_SIZE = 50;
const OUTPUT_POLL_MS = 1000;

const view = {
  jobs: new Map(), // id -> job
  order: [], // ids, newest first, as the API listed them
  cursor: null, // the API's cursor for the next page
  wanted: PAGE_SIZE, // how many jobs the list shows; "Load more" raises it
  expanded: new Map(), // id -> output follower of an expanded job
  startedHere: new Map(), // id -> when this page started it
  refreshTimer: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// --- the token -------------------------------------------------------------------------------

function takeTokenFromUrl() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const token = hash.get("token");
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    // Out of the address bar, the history and any screenshot of it.
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function askForToken(why) {
  $("token-why").textContent = why;
  const dialog = $("token-dialog");
  if (!dialog.open) dialog.showModal();
}

$("token-form").addEventListener("submit", () => {
  sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
  $("token-input").value = "";
  start();
});

// --- the API ---------------------------------------------------------------------------------

class ApiUnreachable extends Error {}

async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  let response;
  try {
    response = await fetch(new URL(path, document.baseURI), {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiUnreachable(`cannot reach the job API (${error.message})`);
  }
  const payload = await response.json().catch(() => null);
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    askForToken("The token was refused. Paste the token that make run printed.");
    throw new Error("token refused");
  }
  if (response.status >= 500) throw new ApiUnreachable(`the job API answered ${response.status}`);
  if (!response.ok) throw new Error((payload && payload.message) || `HTTP ${response.status}`);
  return payload;
}

function showError(message) {
  const banner = $("error-banner");
  banner.textContent = message;
  banner.hidden = !message;
}

// --- formatting ------------------------------------------------------------------------------

const pad = (n) => String(n).padStart(2, "0");

function clock(date) {
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function when(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today ? clock(date) : `${date.toLocaleDateString()} ${clock(date)}`;
}

function duration(job) {
  let seconds;
  if (job.runtime !== null && job.runtime !== undefined) seconds = job.runtime;
  else if (job.started_at && !job.closed_at) seconds = (Date.now() - new Date(job.started_at)) / 1000;
  else if (job.started_at && job.closed_at) seconds = (new Date(job.closed_at) - new Date(job.started_at)) / 1000;
  else return "–";
  seconds = Math.max(0, seconds);
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${pad(Math.round(seconds % 60))} s`;
  return `${Math.floor(minutes / 60)} h ${pad(minutes % 60)} min`;
}

// How far a running job is: from its PROGRESS lines, or else from the runtimes of its last runs.
function progressBar(job) {
  if (job.state !== "running" || !(job.progress || job.expected_end_at)) return null;
  let percent;
  let text;
  if (job.progress) {
    percent = (100 * job.progress.done) / job.progress.total;
    text = `${job.progress.done}/${job.progress.total}`;
  } else {
    const started = new Date(job.started_at);
    const span = new Date(job.expected_end_at) - started;
    percent = span > 0 ? Math.min(99, (100 * (Date.now() - started)) / span) : 99;
    text = `${Math.round(percent)} %, estimated from its last runs`;
  }
  if (job.expected_end_at) {
    const late = new Date(job.expected_end_at) < Date.now();
    text += late ? " · should have ended by now" : ` · ends ~${when(job.expected_end_at)}`;
  }
  const bar = el(
    "span",
    {
      class: `progress${job.progress ? "" : " estimated"}`,
      role: "progressbar",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": String(Math.round(percent)),
      "aria-label": `Progress of ${job.label}`,
    },
    el("span", { class: "progress-fill" }),
  );
  bar.firstChild.style.width = `${percent.toFixed(1)}%`;
  return el("span", { class: "progress-line" }, bar, el("span", { class: "progress-text", text }));
}

function megabytes(value) {
  return value >= 1024 ? `${(value / 1024).toFixed(1)} GB` : `${Math.round(value)} MB`;
}

// --- configured jobs -------------------------------------------------------------------------

function definitionItem(definition) {
  const command = [definition.command, ...definition.params].join(" ");
  const then = definition.depending_jobs.length ? dependingList(definition.depending_jobs) : null;
  const button = el("button", { type: "button", "data-key": definition.key, text: "Start" });
  button.addEventListener("click", () => startDefinition(definition, button));
  const laterButton = el("button", { type: "button", class: "ghost start-later", text: "Start later…" });
  const whenInput = el("input", {
    name: "when",
    required: "",
    "aria-label": `When to start ${definition.label}`,
    placeholder: "10 min, or 2026-12-24 18:00",
  });
  const laterForm = el(
    "form",
    { class: "later", hidden: "" },
    whenInput,
    el("button", { type: "submit", text: "Start then" }),
  );
  laterButton.addEventListener("click", () => {
    laterForm.hidden = !laterForm.hidden;
    if (!laterForm.hidden) whenInput.focus();
  });
  laterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    startDefinition(definition, laterForm.querySelector("button"), startTime(whenInput.value)).then((ok) => {
      if (ok) laterForm.hidden = true;
    });
  });
  const facts = [`queue ${definition.queue}`];
  if (definition.priority) facts.push(`priority ${definition.priority}`);
  if (definition.retries.max_attempts > 1) facts.push(`${definition.retries.max_attempts} attempts`);
  if (definition.schedule) {
    const s = definition.schedule;
    facts.push(s.cron ? `cron ${s.cron} (${s.timezone})` : `every ${s.rate}`);
  }
  if (definition.next_run_at) facts.push(`next run ${when(definition.next_run_at)}`);
  return el(
    "li",
    { class: "definition", "data-key": definition.key },
    el("span", { class: "label", text: definition.label }),
    el("span", { class: "start-buttons" }, button, laterButton),
    definition.desc ? el("span", { class: "desc", text: definition.desc }) : null,
    el("code", { class: "cmd", text: command }),
    el("span", { class: "facts", text: facts.join(" · ") }),
    // The box holds its final shape (a line and a chart) from the start, so that the statistics,
    // which arrive after the list, never move the page under the reader.
    el("div", { class: "stats", "data-stats-of": definition.key, "aria-busy": "true" }, ...statsPlaceholder()),
    laterForm,
    then,
  );
}

// --- statistics of the last runs, per definition -----------------------------------------------

const STATS_RUNS = 30;
const STATS_EVERY_MS = 60_000;
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function seconds(value) {
  if (value === null || value === undefined) return "–";
  return value < 10 ? `${value.toFixed(1)} s` : duration({ runtime: value });
}

// The runtimes of the last runs as bars, coloured by state; a bar opens its job.
function runChart(stats) {
  const width = 264;
  const height = 44;
  const points = stats.series;
  const longest = Math.max(...points.map((p) => p.runtime || 0), 0.001);
  const step = width / Math.max(points.length, STATS_RUNS);
  const chart = svg("svg", {
    class: "run-chart",
    viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": `Runtimes of the last ${points.length} runs`,
  });
  points.forEach((point, i) => {
    const barHeight = point.runtime ? Math.max(2, (point.runtime / longest) * (height - 2)) : 2;
    const bar = svg(
      "rect",
      {
        class: `bar ${point.state}`,
        x: (i * step + 1).toFixed(1),
        y: (height - barHeight).toFixed(1),
        width: Math.max(1, step - 2).toFixed(1),
        height: barHeight.toFixed(1),
        "data-job": point.id,
        tabindex: "0",
      },
      svg("title", {}, `${point.state} · ${seconds(point.runtime)} · ${when(point.created_at)}`),
    );
    bar.addEventListener("click", () => openJob(point.id));
    bar.addEventListener("keydown", (event) => event.key === "Enter" && openJob(point.id));
    chart.append(bar);
  });
  return chart;
}

function statsPlaceholder() {
  return [el("span", { class: "stats-line", text: "statistics loading…" }), runChart({ series: [] })];
}

function statsView(stats) {
  if (!stats.runs) return [el("span", { class: "stats-line", text: "no runs yet" }), runChart(stats)];
  const facts = [stats.runs === 1 ? "1 run" : `${stats.runs} runs`];
  if (stats.success_rate !== null) facts.push(`${Math.round(stats.success_rate * 100)} % succeed`);
  if (stats.runtime.p50 !== null) facts.push(`p50 ${seconds(stats.runtime.p50)}`, `p95 ${seconds(stats.runtime.p95)}`);
  if (stats.peak_memory_mb.max !== null) facts.push(`peak ${megabytes(stats.peak_memory_mb.max)}`);
  // The line keeps to one line (its box has a fixed height); the whole of it is its title.
  const line = facts.join(" · ");
  return [el("span", { class: "stats-line", text: line, title: line }), runChart(stats)];
}

async function loadStats() {
  const boxes = [...document.querySelectorAll("#definitions .stats[data-stats-of]")];
  await Promise.all(
    boxes.map(async (box) => {
      const key = box.dataset.statsOf;
      try {
        const stats = await api("GET", `stats?definition=${encodeURIComponent(key)}&runs=${STATS_RUNS}`);
        box.replaceChildren(...statsView(stats));
        box.removeAttribute("aria-busy");
      } catch {
        // Statistics are a help, not the page: the next round tries again.
      }
    }),
  );
}

// Expands a job's row, fetching the job first if the list does not show it.
async function openJob(id) {
  if (!rowOf(id)) {
    const job = await api("GET", `jobs/${id}`);
    view.jobs.set(job.id, job);
    view.order = [job.id, ...view.order.filter((other) => other !== job.id)];
    renderJobs();
  }
  if (!view.expanded.has(id)) toggleDetail(id);
  rowOf(id).scrollIntoView({ block: "center" });
}

// "10 min" is a delay; anything that reads as a date is a time (in this browser's time zone).
function startTime(text) {
  const value = text.trim();
  if (/^\d+\s*[a-z]/i.test(value) && !/^\d{4}-/.test(value)) return { delay: value };
  const moment = new Date(value.replace(" ", "T"));
  return Number.isNaN(moment.getTime()) ? { run_at: value } : { run_at: moment.toISOString() };
}

function dependingList(definitions) {
  return el(
    "ul",
    { class: "then", "aria-label": "then, if it finished" },
    ...definitions.map((d) =>
      el(
        "li",
        {},
        `${d.label} `,
        el("code", { text: [d.command, ...d.params].join(" ") }),
        d.depending_jobs.length ? dependingList(d.depending_jobs) : null,
      ),
    ),
  );
}

async function loadQueues() {
  const { items } = await api("GET", "queues");
  const chosen = $("filter-queue").value;
  $("filter-queue").replaceChildren(
    el("option", { value: "", text: "all" }),
    ...items.map((q) => el("option", { value: q.name, text: q.concurrency ? `${q.name} (${q.concurrency} at a time)` : q.name })),
  );
  $("filter-queue").value = chosen;
}

async function loadDefinitions() {
  const { items } = await api("GET", "job-definitions");
  $("definitions").replaceChildren(...items.map(definitionItem));
  const commands = new Set();
  const walk = (list) => list.forEach((d) => (commands.add(d.command), walk(d.depending_jobs)));
  walk(items);
  $("known-commands").replaceChildren(...[...commands].sort().map((c) => el("option", { value: c })));
}

async function startDefinition(definition, button, options) {
  button.disabled = true;
  try {
    const job = await api("POST", `job-definitions/${encodeURIComponent(definition.key)}/start`, options);
    await showNewJob(job);
    return true;
  } catch (error) {
    if (!(error instanceof ApiUnreachable)) alert(`Could not start ${definition.label}: ${error.message}`);
    else showError(error.message);
    return false;
  } finally {
    button.disabled = false;
  }
}

// A started job shows at once, before the next refresh, with its dependents under it.
async function showNewJob(job) {
  const dependents = await Promise.all(job.dependents.map((id) => api("GET", `jobs/${id}`).catch(() => null)));
  for (const child of [job, ...dependents]) {
    if (!child) continue;
    view.jobs.set(child.id, child);
    view.startedHere.set(child.id, Date.now());
  }
  view.order = [job.id, ...dependents.filter(Boolean).map((c) => c.id), ...view.order.filter((id) => id !== job.id)];
  renderJobs();
  const row = rowOf(job.id);
  if (row) {
    row.classList.add("fresh");
    row.scrollIntoView({ block: "nearest" });
  }
}

// --- the list of jobs ------------------------------------------------------------------------

function filters() {
  const params = new URLSearchParams();
  if ($("filter-state").value) params.set("state", $("filter-state").value);
  // The API filters by queue or by command (each with the state), not both.
  if ($("filter-queue").value) params.set("queue", $("filter-queue").value);
  else if ($("filter-command").value.trim()) params.set("command", $("filter-command").value.trim());
  return params;
}

async function fetchJobs(count) {
  const jobs = [];
  let cursor = null;
  do {
    const params = filters();
    params.set("limit", String(Math.min(100, count - jobs.length)));
    if (cursor) params.set("cursor", cursor);
    const page = await api("GET", `jobs?${params}`);
    jobs.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && jobs.length < count);
  return { jobs, cursor };
}

async function refresh() {
  try {
    const { jobs, cursor } = await fetchJobs(view.wanted);
    const listed = new Set(jobs.map((j) => j.id));
    // A job started here stays shown for a while even if the list does not have it yet.
    const started = view.order.filter((id) => !listed.has(id) && Date.now() - (view.startedHere.get(id) || 0) < 30000);
    for (const job of jobs) view.jobs.set(job.id, job);
    view.order = [...started, ...jobs.map((j) => j.id)];
    view.cursor = cursor;
    renderJobs();
    showError("");
    $("updated").textContent = `updated ${clock(new Date())}`;
  } catch (error) {
    if (error instanceof ApiUnreachable) showError(`${error.message}. Retrying every ${refreshSeconds()} s.`);
  }
}

function rowOf(id) {
  return document.querySelector(`tr.job-row[data-id="${CSS.escape(id)}"]`);
}

// Parents first, each followed by its dependents that are in the list, at any depth.
function treeOrder() {
  const inList = new Set(view.order);
  const placed = new Set();
  const out = [];
  const place = (id, depth) => {
    if (placed.has(id) || !inList.has(id)) return;
    placed.add(id);
    out.push({ id, depth });
    for (const child of view.jobs.get(id).dependents || []) place(child, depth + 1);
  };
  for (const id of view.order) {
    const job = view.jobs.get(id);
    if (!job.parent_id || !inList.has(job.parent_id)) place(id, 0);
  }
  for (const id of view.order) place(id, 0);
  return out;
}

function renderJobs() {
  const body = $("job-rows");
  const wanted = [];
  for (const { id, depth } of treeOrder()) {
    const job = view.jobs.get(id);
    const row = rowOf(id) || newRow(id);
    fillRow(row, job, depth);
    wanted.push(row);
    const follower = view.expanded.get(id);
    if (follower) {
      follower.update(job);
      wanted.push(follower.row);
    }
  }
  // Move only what is out of place: moving a node would lose an output panel's scroll position.
  let cursor = body.firstChild;
  for (const node of wanted) {
    if (node === cursor) cursor = cursor.nextSibling;
    else body.insertBefore(node, cursor);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
  $("empty").hidden = wanted.length > 0;
  $("load-more").hidden = !view.cursor;
}

function newRow(id) {
  const toggle = el("button", { type: "button", class: "job-toggle", "aria-expanded": "false" });
  toggle.addEventListener("click", () => toggleDetail(id));
  const row = el("tr", { class: "job-row", "data-id": id });
  row.append(
    el("td", { class: "cell-job" }, toggle),
    el("td", { class: "params" }),
    el("td", { class: "cell-state" }),
    el("td", { class: "cell-created" }),
    el("td", { class: "cell-started" }),
    el("td", { class: "cell-duration" }),
    el("td", { class: "cell-exit" }),
  );
  return row;
}

function fillRow(row, job, depth) {
  const [jobCell, paramsCell, stateCell, createdCell, startedCell, durationCell, exitCell] = row.children;
  const toggle = jobCell.firstChild;
  toggle.replaceChildren(
    el("span", { class: "chevron", "aria-hidden": "true", text: "▸" }),
    depth ? el("span", { class: "tree", text: "↳ " }) : "",
    el("span", { class: "job-label", text: job.label || job.command }),
  );
  jobCell.style.paddingLeft = `${8 + depth * 22}px`;
  const extra = [el("span", { class: "job-id", text: job.id })];
  const facts = [`queue ${job.queue}`];
  if (job.priority) facts.push(`priority ${job.priority}`);
  // A schedule or a retry is its own starter: "by schedule"; a person or a role: "started by anna".
  if (job.started_by && job.started_by !== job.trigger) facts.push(`started by ${job.started_by}`);
  else if (job.trigger !== "api") facts.push(`by ${job.trigger}`);
  if (job.canceled_by) facts.push(`canceled by ${job.canceled_by}`);
  if (job.run_at) facts.push(`run at ${when(job.run_at)}`);
  if (job.peak_memory_mb) facts.push(`peak ${megabytes(job.peak_memory_mb)}`);
  extra.push(el("span", { class: "job-facts", text: facts.join(" · ") }));
  const bar = progressBar(job);
  if (bar) extra.push(bar);
  if (job.waiting) extra.push(el("span", { class: "waiting", text: job.waiting }));
  if (job.reason) extra.push(el("span", { class: "reason", text: job.reason }));
  while (jobCell.childNodes.length > 1) jobCell.lastChild.remove();
  jobCell.append(...extra);
  row.dataset.state = job.state;
  row.dataset.parent = job.parent_id || "";
  row.dataset.depth = String(depth);
  const params = job.params.join(" ");
  paramsCell.replaceChildren(el("span", { text: params, title: params }));
  const attempts = job.retries?.max_attempts || 1;
  const attempt = attempts > 1 ? `attempt ${job.attempt} of ${attempts}` : "";
  if (stateCell.firstChild?.textContent !== job.state || (stateCell.children[1]?.textContent || "") !== attempt) {
    stateCell.replaceChildren(
      el("span", { class: `badge ${job.state}`, text: job.state }),
      attempt ? el("span", { class: "attempt", text: attempt }) : "",
    );
  }
  createdCell.textContent = when(job.created_at);
  createdCell.title = job.created_at;
  startedCell.textContent = when(job.started_at);
  startedCell.title = job.started_at || "";
  durationCell.textContent = duration(job);
  exitCell.textContent = job.exit_code ?? "";
}

// Running jobs' durations count up between refreshes.
setInterval(() => {
  for (const row of document.querySelectorAll('tr.job-row[data-state="running"]')) {
    const job = view.jobs.get(row.dataset.id);
    if (job) row.children[5].textContent = duration(job);
  }
}, 1000);

// --- an expanded job -------------------------------------------------------------------------

function toggleDetail(id) {
  const row = rowOf(id);
  const follower = view.expanded.get(id);
  if (follower) {
    follower.stop();
    view.expanded.delete(id);
    follower.row.remove();
    row.classList.remove("expanded");
    row.querySelector(".job-toggle").setAttribute("aria-expanded", "false");
    return;
  }
  const opened = new OutputFollower(view.jobs.get(id));
  view.expanded.set(id, opened);
  row.after(opened.row);
  row.classList.add("expanded");
  row.querySelector(".job-toggle").setAttribute("aria-expanded", "true");
  opened.poll();
}

const FIELDS = [
  "id", "label", "command", "params", "state", "exit_code", "reason", "definition", "parent_id", "root_id",
  "dependents", "created_at", "started_at", "closed_at", "runtime", "runner", "max_runtime", "queue", "priority",
  "attempt", "retries", "retry_of", "retried_by", "trigger", "started_by", "canceled_by", "run_at", "waiting",
  "progress", "expected_end_at", "expected_end_from", "peak_memory_mb", "cpu_seconds", "execution_arn", "output",
];

class OutputFollower {
  constructor(job) {
    this.job = job;
    this.cursor = null;
    this.complete = false;
    this.lineCount = 0;
    this.timer = null;
    this.stopped = false;
    this.fields = el("dl", { class: "fields" });
    this.actions = el("div", { class: "detail-actions" });
    this.status = el("span", { class: "output-status" });
    this.counter = el("span", { class: "output-count" });
    this.pre = el("pre", { class: "output", tabindex: "0", "aria-label": `Output of ${job.label}` });
    const grid = el(
      "div",
      { class: "detail-grid" },
      el("div", {}, this.fields, this.actions),
      el("div", {}, el("div", { class: "output-head" }, this.status, this.counter), this.pre),
    );
    this.row = el("tr", { class: "detail", "data-detail-of": job.id }, el("td", { colspan: "7" }, grid));
    this.update(job);
  }

  update(job) {
    this.job = job;
    this.fields.replaceChildren(
      ...FIELDS.flatMap((name) => {
        let value = job[name];
        if (name === "output" && value) value = `${value.s3_uri}\nlogs: ${value.log_group} / ${value.log_stream}`;
        if (name === "retries" && value) value = `${value.max_attempts} attempts, back-off ${value.backoff} s × ${value.factor}`;
        if (name === "progress" && value) value = `${value.done}/${value.total}`;
        if (Array.isArray(value)) value = value.join(" ");
        return [el("dt", { text: name }), el("dd", { "data-field": name, text: value ?? "–" })];
      }),
    );
    const buttons = [];
    if (OPEN_STATES.has(job.state)) {
      buttons.push(el("button", { type: "button", class: "danger", text: "Cancel", onclick: () => this.cancel() }));
    } else {
      buttons.push(el("button", { type: "button", text: "Retry", onclick: () => this.retry() }));
    }
    this.actions.replaceChildren(...buttons);
    this.showStatus();
  }

  showStatus() {
    if (this.complete) this.status.textContent = "complete";
    else if (this.job.state === "pending") this.status.textContent = "waiting for the job to start…";
    else this.status.textContent = "streaming…";
    this.counter.textContent = `${this.lineCount} lines`;
  }

  async poll() {
    if (this.stopped) return;
    try {
      const query = this.cursor ? `?cursor=${encodeURIComponent(this.cursor)}` : "";
      const page = await api("GET", `jobs/${this.job.id}/output${query}`);
      this.append(page.lines);
      this.cursor = page.next_cursor || this.cursor;
      this.complete = page.complete;
      this.showStatus();
      if (page.complete) this.update(await api("GET", `jobs/${this.job.id}`));
      if (page.complete) return;
      // A long backlog comes in pages: fetch the next one at once.
      if (page.lines.length >= 1000) return this.poll();
    } catch (error) {
      if (error instanceof ApiUnreachable) showError(error.message);
    }
    this.timer = setTimeout(() => this.poll(), OUTPUT_POLL_MS);
  }

  append(lines) {
    if (!lines.length) return;
    const pre = this.pre;
    // Stay at the bottom unless the user scrolled up to read.
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
    pre.append(document.createTextNode(`${lines.join("\n")}\n`));
    this.lineCount += lines.length;
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }

  async cancel() {
    try {
      const job = await api("POST", `jobs/${this.job.id}/cancel`);
      view.jobs.set(job.id, job);
      renderJobs();
      refresh();
    } catch (error) {
      alert(`Could not cancel: ${error.message}`);
    }
  }

  // A configured job starts again as configured, label and depending_jobs included; any other as it ran.
  async retry() {
    const job = this.job;
    try {
      const started = job.definition && !job.parent_id
        ? await api("POST", `job-definitions/${encodeURIComponent(job.definition)}/start`)
        : await api("POST", "jobs", {
            command: job.command,
            params: job.params,
            label: job.label,
            runner: job.runner,
            max_runtime: job.max_runtime,
            queue: job.queue,
            priority: job.priority,
          });
      await showNewJob(started);
    } catch (error) {
      alert(`Could not retry: ${error.message}`);
    }
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

// --- refreshing ------------------------------------------------------------------------------

function refreshSeconds() {
  const fromUrl = Number(new URLSearchParams(location.search).get("refresh"));
  if (fromUrl > 0) return fromUrl;
  return Number(localStorage.getItem(REFRESH_KEY)) || 10;
}

function scheduleRefresh() {
  clearInterval(view.refreshTimer);
  view.refreshTimer = setInterval(refresh, refreshSeconds() * 1000);
  const select = $("refresh-interval");
  const seconds = String(refreshSeconds());
  if (![...select.options].some((o) => o.value === seconds)) select.append(el("option", { value: seconds, text: `${seconds} s` }));
  select.value = seconds;
}

$("refresh-interval").addEventListener("change", (event) => {
  localStorage.setItem(REFRESH_KEY, event.target.value);
  const url = new URL(location.href);
  url.searchParams.delete("refresh");
  history.replaceState(null, "", url);
  scheduleRefresh();
});
$("refresh-now").addEventListener("click", refresh);
$("load-more").addEventListener("click", () => {
  view.wanted += PAGE_SIZE;
  refresh();
});
for (const id of ["filter-state", "filter-command", "filter-queue"]) {
  $(id).addEventListener("change", () => {
    $("filter-command").disabled = Boolean($("filter-queue").value);
    view.wanted = PAGE_SIZE;
    refresh();
  });
}
$("filters").addEventListener("submit", (event) => event.preventDefault());

async function start() {
  takeTokenFromUrl();
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    askForToken("This page needs the token that make run printed (it is in the URL it prints).");
    return;
  }
  try {
    await loadDefinitions();
    await loadQueues();
  } catch (error) {
    if (error.message !== "token refused") showError(`${error.message}. Reload to try again.`);
    return;
  }
  $("app").hidden = false;
  await refresh();
  scheduleRefresh();
  loadStats();
  setInterval(loadStats, STATS_EVERY_MS);
}

start();

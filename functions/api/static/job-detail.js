// --- an expanded job -------------------------------------------------------------------------

import { ApiUnreachable, api, showError } from "./api.js";
import { $, OPEN_STATES, OUTPUT_POLL_MS, el, on, redraw, rowOf, view } from "./state.js";
import { drawRun } from "./graph.js";
import { replayForm } from "./replay.js";

export function toggleDetail(id) {
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
  opened.refreshGraph();
}

// A job's fields as the API gives them, in its order: the page keeps no list of its own (a new
// setting shows with no change here). Those that say which job it is come first.
const LEAD = ["id", "label", "command", "params", "state"];

export function fieldsOf(job) {
  return [...LEAD, ...Object.keys(job).filter((name) => !LEAD.includes(name))];
}

function shown(name, value) {
  if (value === null || value === undefined) return "–";
  if (name === "output") return `${value.s3_uri}\nlogs: ${value.log_group} / ${value.log_stream}`;
  if (name === "retries") return `${value.max_attempts} attempts, back-off ${value.backoff} s × ${value.factor}`;
  if (name === "progress") return `${value.done}/${value.total}`;
  if (Array.isArray(value)) return value.join(" ");
  if (typeof value === "object") {
    const known = Object.entries(value).filter(([, inner]) => inner !== null && inner !== undefined);
    return known.map(([key, inner]) => `${key} ${inner}`).join(", ");
  }
  return String(value);
}

// The settings a job ran with (their names from GET /job-definitions), for a start of the same job.
function settingsOf(job) {
  return Object.fromEntries(view.settings.filter((name) => name in job).map((name) => [name, job[name]]));
}

export class OutputFollower {
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
    this.graph = el("div", { class: "graph-box", hidden: true });
    this.drawnRun = "";
    const grid = el(
      "div",
      { class: "detail-grid" },
      el("div", {}, this.fields, this.actions),
      el("div", {}, el("div", { class: "output-head" }, this.status, this.counter), this.pre, this.graph),
    );
    this.row = el("tr", { class: "detail", "data-detail-of": job.id }, el("td", { colspan: "8" }, grid));
    this.update(job);
  }

  update(job) {
    this.job = job;
    this.fields.replaceChildren(
      ...fieldsOf(job).flatMap((name) => [
        el("dt", { text: name }),
        el("dd", { "data-field": name, text: shown(name, job[name]) }),
      ]),
    );
    const open = OPEN_STATES.has(job.state);
    redraw(this.actions, open ? "cancel" : "retry", () =>
      open
        ? [el("button", { type: "button", class: "danger", text: "Cancel", onclick: () => this.cancel() })]
        : [el("button", { type: "button", text: "Retry", onclick: () => this.retry() }), replayForm(job)],
    );
    this.showStatus();
  }

  // The whole run, drawn again when a job of it changed: each refresh of the list asks.
  async refreshGraph() {
    try {
      const run = await api("GET", `jobs/${this.job.id}/run`);
      const drawn = run.jobs.map((job) => `${job.id}:${job.state}`).join(",");
      if (this.stopped || drawn === this.drawnRun) return;
      this.drawnRun = drawn;
      this.graph.hidden = run.jobs.length < 2;
      this.graph.replaceChildren(el("h4", { text: "Run" }), drawRun(run.jobs, this.job.id));
    } catch (error) {
      if (error instanceof ApiUnreachable) showError(error.message);
    }
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
      this.append(page.lines, page.stderr);
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

  // Lines the command wrote to stderr are marked: a colour, and a label that a copy keeps.
  append(lines, stderr = []) {
    if (!lines.length) return;
    const pre = this.pre;
    // Stay at the bottom unless the user scrolled up to read.
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
    const errors = new Set(stderr);
    let run = [];
    const endRun = () => {
      if (run.length) pre.append(document.createTextNode(`${run.join("\n")}\n`));
      run = [];
    };
    lines.forEach((line, index) => {
      if (!errors.has(index)) return run.push(line);
      endRun();
      pre.append(el("span", { class: "stderr" }, el("span", { class: "stream-label", text: "[stderr] " }), `${line}\n`));
    });
    endRun();
    this.lineCount += lines.length;
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }

  async cancel() {
    try {
      const job = await api("POST", `jobs/${this.job.id}/cancel`);
      view.jobs.set(job.id, job);
      on.renderJobs();
      on.refresh();
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
        : await api("POST", "jobs", { command: job.command, params: job.params, label: job.label, ...settingsOf(job) });
      await on.showNewJob(started);
    } catch (error) {
      alert(`Could not retry: ${error.message}`);
    }
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

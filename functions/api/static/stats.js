import { ApiUnreachable, api, showError } from "./api.js";
import { start } from "./app.js";
import { definitionItem } from "./definitions.js";
import { duration, megabytes, when } from "./format.js";
import { toggleDetail } from "./job-detail.js";
import { renderJobs, rowOf } from "./job-list.js";
import { $, el, view } from "./state.js";

// --- statistics of the last runs, per definition -----------------------------------------------

export const STATS_RUNS = 30;
export const STATS_EVERY_MS = 60_000;
export const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

export function seconds(value) {
  if (value === null || value === undefined) return "–";
  return value < 10 ? `${value.toFixed(1)} s` : duration({ runtime: value });
}

// The runtimes of the last runs as bars, coloured by state; a bar opens its job.
export function runChart(stats) {
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

export function statsPlaceholder() {
  return [el("span", { class: "stats-line", text: "statistics loading…" }), runChart({ series: [] })];
}

export function statsView(stats) {
  if (!stats.runs) return [el("span", { class: "stats-line", text: "no runs yet" }), runChart(stats)];
  const facts = [stats.runs === 1 ? "1 run" : `${stats.runs} runs`];
  if (stats.success_rate !== null) facts.push(`${Math.round(stats.success_rate * 100)} % succeed`);
  if (stats.runtime.p50 !== null) facts.push(`p50 ${seconds(stats.runtime.p50)}`, `p95 ${seconds(stats.runtime.p95)}`);
  if (stats.peak_memory_mb.max !== null) facts.push(`peak ${megabytes(stats.peak_memory_mb.max)}`);
  // The line keeps to one line (its box has a fixed height); the whole of it is its title.
  const line = facts.join(" · ");
  return [el("span", { class: "stats-line", text: line, title: line }), runChart(stats)];
}

export async function loadStats() {
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
export async function openJob(id) {
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
export function startTime(text) {
  const value = text.trim();
  if (/^\d+\s*[a-z]/i.test(value) && !/^\d{4}-/.test(value)) return { delay: value };
  const moment = new Date(value.replace(" ", "T"));
  return Number.isNaN(moment.getTime()) ? { run_at: value } : { run_at: moment.toISOString() };
}

export function dependingList(definitions) {
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

export async function loadQueues() {
  const { items } = await api("GET", "queues");
  const chosen = $("filter-queue").value;
  $("filter-queue").replaceChildren(
    el("option", { value: "", text: "all" }),
    ...items.map((q) => el("option", { value: q.name, text: q.concurrency ? `${q.name} (${q.concurrency} at a time)` : q.name })),
  );
  $("filter-queue").value = chosen;
}

export async function loadDefinitions() {
  const { items } = await api("GET", "job-definitions");
  $("definitions").replaceChildren(...items.map(definitionItem));
  const commands = new Set();
  const walk = (list) => list.forEach((d) => (commands.add(d.command), walk(d.depending_jobs)));
  walk(items);
  $("known-commands").replaceChildren(...[...commands].sort().map((c) => el("option", { value: c })));
}

export async function startDefinition(definition, button, options) {
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
export async function showNewJob(job) {
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

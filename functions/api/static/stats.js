// --- statistics of the last runs, per definition -----------------------------------------------

import { api } from "./api.js";
import { dollars, duration, megabytes, when } from "./format.js";
import { openJob } from "./job-list.js";
import { $, el } from "./state.js";

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
  return [el("span", { class: "stats-line", text: "statistics loading…" }), costLine(null), runChart({ series: [] })];
}

// What its runs of the last 30 days cost on AWS, and 30 days at their rate. Always there, empty
// without runs: the box keeps its height.
export function costLine(cost) {
  if (!cost || !cost.runs) return el("span", { class: "cost-line", text: "" });
  const line = `≈ ${dollars(cost.per_run)} a run · ${dollars(cost.in_30_days)} in 30 days`;
  const runs = cost.runs === 1 ? "1 run" : `${cost.runs} runs`;
  const days = cost.days === 1 ? "today" : `in the last ${cost.days} days`;
  const title = `${line} (${runs} ${days}, at ${cost.region}'s AWS prices of ${cost.prices_as_of})`;
  return el("span", { class: "cost-line", text: line, title });
}

export function statsView(stats) {
  if (!stats.runs) return [el("span", { class: "stats-line", text: "no runs yet" }), costLine(stats.cost), runChart(stats)];
  const facts = [stats.runs === 1 ? "1 run" : `${stats.runs} runs`];
  if (stats.success_rate !== null) facts.push(`${Math.round(stats.success_rate * 100)} % succeed`);
  if (stats.runtime.p50 !== null) facts.push(`p50 ${seconds(stats.runtime.p50)}`, `p95 ${seconds(stats.runtime.p95)}`);
  if (stats.peak_memory_mb.max !== null) facts.push(`peak ${megabytes(stats.peak_memory_mb.max)}`);
  // The line keeps to one line (its box has a fixed height); the whole of it is its title.
  const line = facts.join(" · ");
  return [el("span", { class: "stats-line", text: line, title: line }), costLine(stats.cost), runChart(stats)];
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

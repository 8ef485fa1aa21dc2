// --- formatting ------------------------------------------------------------------------------

import { $, el } from "./state.js";

export const pad = (n) => String(n).padStart(2, "0");

export function clock(date) {
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function when(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today ? clock(date) : `${date.toLocaleDateString()} ${clock(date)}`;
}

export function duration(job) {
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

// US dollars: cents from a cent up, else two significant digits (a run costs a fraction of a cent);
// jobs_cli/stats.py writes them the same way.
export function dollars(value) {
  if (value >= 0.01) return `$${value.toFixed(2)}`;
  if (value < 0.000001) return "< $0.000001";
  const rounded = Number(value.toPrecision(2)); // first: 0.0000999 is $0.00010, not $0.000100
  return `$${rounded.toFixed(1 - Math.floor(Math.log10(rounded)))}`;
}

// How far a running job is: from its PROGRESS lines, or else from the runtimes of its last runs.
export function progressBar(job) {
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

export function megabytes(value) {
  return value >= 1024 ? `${(value / 1024).toFixed(1)} GB` : `${Math.round(value)} MB`;
}

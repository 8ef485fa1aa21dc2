// --- configured jobs -------------------------------------------------------------------------

import { ApiRefused, ApiUnreachable, api, showError } from "./api.js";
import { when } from "./format.js";
import { openJob, showNewJob } from "./job-list.js";
import { $, el, view } from "./state.js";
import { statsPlaceholder } from "./stats.js";

export function definitionItem(definition) {
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
  if (definition.unique) facts.push("one run at a time");
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
    el("span", { class: "start-buttons" }, button, laterButton, el("span", { class: "already", role: "status" })),
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
        d.after.length ? el("span", { class: "after", text: ` after ${d.after.join(", ")}` }) : null,
        d.depending_jobs.length ? dependingList(d.depending_jobs) : null,
      ),
    ),
  );
}

export async function loadDefinitions() {
  const { items, settings } = await api("GET", "job-definitions");
  view.settings = settings;
  $("definitions").replaceChildren(...items.map(definitionItem));
  const commands = new Set();
  const walk = (list) => list.forEach((d) => (commands.add(d.command), walk(d.depending_jobs)));
  walk(items);
  $("known-commands").replaceChildren(...[...commands].sort().map((c) => el("option", { value: c })));
}

export async function startDefinition(definition, button, options) {
  button.disabled = true;
  const already = button.closest(".definition").querySelector(".already");
  already.replaceChildren();
  try {
    const job = await api("POST", `job-definitions/${encodeURIComponent(definition.key)}/start`, options);
    await showNewJob(job);
    return true;
  } catch (error) {
    if (error instanceof ApiRefused && error.payload.open_job) showAlreadyRunning(already, error.payload.open_job);
    else if (!(error instanceof ApiUnreachable)) alert(`Could not start ${definition.label}: ${error.message}`);
    else showError(error.message);
    return false;
  } finally {
    button.disabled = false;
  }
}

// A unique definition's start refused: its open run is one click away.
function showAlreadyRunning(where, job) {
  const link = el("a", { href: `#job-${job.id}`, text: `job ${job.id}` });
  link.addEventListener("click", (event) => {
    event.preventDefault();
    openJob(job.id);
  });
  where.replaceChildren("already running: ", link);
}

import { start } from "./app.js";
import { when } from "./format.js";
import { $, el } from "./state.js";
import { dependingList, startDefinition, startTime, statsPlaceholder } from "./stats.js";

// --- configured jobs -------------------------------------------------------------------------

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

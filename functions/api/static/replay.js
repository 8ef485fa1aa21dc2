// --- a closed job's replay, its params edited -------------------------------------------------

import { api } from "./api.js";
import { el, on } from "./state.js";

// One param a line: a param may hold blanks, never a line break that the form could not show.
export function replayForm(job) {
  const params = el("textarea", {
    class: "replay-params",
    rows: String(Math.min(6, Math.max(2, job.params.length))),
    "aria-label": `Params of the replay of ${job.label}, one a line`,
  });
  params.value = job.params.join("\n");
  const form = el(
    "form",
    { class: "replay-form" },
    el("label", {}, "Params, one a line", params),
    el("button", { type: "submit", text: "Replay" }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const edited = params.value === "" ? [] : params.value.replace(/\n$/, "").split("\n");
    try {
      const started = await api("POST", `jobs/${job.id}/replay`, { params: edited });
      await on.showNewJob(started);
    } catch (error) {
      alert(`Could not replay: ${error.message}`);
    }
  });
  return el("details", { class: "replay" }, el("summary", { text: "Replay with edited params…" }), form);
}

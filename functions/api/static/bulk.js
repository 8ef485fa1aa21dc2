// --- bulk actions: the jobs of the list's filters, or the ticked rows -----------------------------

import { api } from "./api.js";
import { filters } from "./job-list.js";
import { $, el, on, view } from "./state.js";

const POLL_MS = 2000;
let counted = null; // the request whose dry run was shown, and its count
let following = null; // the timer of the action whose progress shows

// What the action acts on: the ticked rows if any, else the jobs that the list's filters show.
function scope() {
  if (view.picked.size) return { ids: [...view.picked] };
  const found = Object.fromEntries(filters());
  const since = $("bulk-since").value;
  return since ? { ...found, since } : found;
}

export function describeScope() {
  $("bulk-scope").textContent = view.picked.size
    ? `the ${view.picked.size} ticked job(s)`
    : "the jobs of the list's filters";
  $("bulk-since").disabled = view.picked.size > 0;
  $("bulk-counted").hidden = true;
  counted = null;
}

export function toggleBulk() {
  $("bulk-panel").hidden = !$("bulk-panel").hidden;
  describeScope();
}

export async function countJobs() {
  const body = { action: $("bulk-action").value, filter: scope() };
  const dryRun = await api("POST", "bulk-actions", { ...body, dry_run: true });
  counted = { body, count: dryRun.count };
  $("bulk-count-text").textContent = `${dryRun.count} job(s) match. The newest:`;
  $("bulk-sample").replaceChildren(
    ...dryRun.sample.slice(0, 10).map((job) =>
      el("li", { "data-id": job.id, text: `${job.label} · ${job.state} · ${job.params.join(" ")} · ${job.id}` }),
    ),
  );
  const verb = body.action[0].toUpperCase() + body.action.slice(1);
  $("bulk-start").textContent = `${verb} ${dryRun.count} job(s)`;
  $("bulk-start").disabled = dryRun.count === 0;
  $("bulk-counted").hidden = false;
}

export async function startBulk() {
  if (!counted) return;
  const action = await api("POST", "bulk-actions", { ...counted.body, expect_count: counted.count });
  $("bulk-counted").hidden = true;
  view.picked.clear();
  for (const box of document.querySelectorAll("input.pick:checked")) box.checked = false;
  follow(action);
}

function showProgress(action) {
  const ended = action.done + action.skipped;
  $("bulk-progress").hidden = false;
  $("bulk-progress").dataset.state = action.state;
  $("bulk-bar").max = Math.max(1, action.count);
  $("bulk-bar").value = ended;
  const why = action.reason ? ` (${action.reason})` : "";
  $("bulk-progress-text").textContent =
    `${action.action} ${action.state}: ${action.done} done, ${action.skipped} skipped of ${action.count}${why}`;
  $("bulk-stop").hidden = action.state !== "running";
  $("bulk-resume").hidden = action.state !== "stopped";
  $("bulk-stop").dataset.id = action.id;
  $("bulk-resume").dataset.id = action.id;
}

export function follow(action) {
  clearTimeout(following);
  showProgress(action);
  if (action.state === "running" || action.state === "stopping") {
    following = setTimeout(async () => follow(await api("GET", `bulk-actions/${action.id}`)), POLL_MS);
  } else {
    on.refresh();
  }
}

export async function stopOrResume(event) {
  const verb = event.target.id === "bulk-stop" ? "stop" : "resume";
  follow(await api("POST", `bulk-actions/${event.target.dataset.id}/${verb}`));
}

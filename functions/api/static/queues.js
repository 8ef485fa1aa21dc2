// --- queues: their slots, and a pause before a maintenance ------------------------------------

import { ApiUnreachable, api, showError } from "./api.js";
import { when } from "./format.js";
import { refresh } from "./job-list.js";
import { $, el } from "./state.js";

// Each queue keeps one line for what it does now, so that a pause or a resume never moves the page.
function queueItem(queue) {
  const usage = queue.concurrency ? `${queue.running} of ${queue.concurrency} running` : "no limit";
  const now = queue.paused ? `paused by ${queue.paused_by} at ${when(queue.paused_at)}` : "starting its jobs";
  const action = queue.paused ? "Resume" : "Pause";
  const button = el("button", {
    type: "button",
    class: "ghost",
    text: action,
    "aria-label": `${action} queue ${queue.name}`,
  });
  button.addEventListener("click", () => toggle(queue, button));
  return el(
    "li",
    { class: queue.paused ? "queue paused" : "queue", "data-queue": queue.name },
    el("span", { class: "name", text: queue.name }),
    button,
    el("span", { class: "now", text: `${usage} · ${now}` }),
  );
}

async function toggle(queue, button) {
  button.disabled = true;
  try {
    await api("POST", `queues/${encodeURIComponent(queue.name)}/${queue.paused ? "resume" : "pause"}`);
    await loadQueues();
    refresh();
  } catch (error) {
    if (error instanceof ApiUnreachable) showError(error.message);
    else alert(`Could not change queue ${queue.name}: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

export async function loadQueues() {
  const { items } = await api("GET", "queues");
  $("queues").replaceChildren(...items.map(queueItem));
  const chosen = $("filter-queue").value;
  $("filter-queue").replaceChildren(
    el("option", { value: "", text: "all" }),
    ...items.map((q) => el("option", { value: q.name, text: q.concurrency ? `${q.name} (${q.concurrency} at a time)` : q.name })),
  );
  $("filter-queue").value = chosen;
}

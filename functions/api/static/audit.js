// --- the audit log tab (admin) ------------------------------------------------------------------

import { api } from "./api.js";
import { when } from "./format.js";
import { $, el } from "./state.js";

export async function loadAudit() {
  const params = new URLSearchParams({ limit: "100" });
  const actor = $("audit-actor").value.trim();
  if (actor) params.set("actor", actor);
  if ($("audit-action").value) params.set("action", $("audit-action").value);
  const page = await api("GET", `audit?${params}`);
  $("audit-rows").replaceChildren(
    ...page.items.map((record) =>
      el(
        "tr",
        { "data-action": record.action, "data-refused": record.outcome.startsWith("refused") },
        el("td", { text: when(record.at), title: record.at }),
        el("td", { class: "actor", text: record.actor }),
        el("td", { class: "action", text: record.action }),
        el("td", { class: "target", text: record.target }),
        el("td", { class: "outcome", text: record.outcome }),
        el("td", { class: "request", text: record.request_id || "–" }),
      ),
    ),
  );
  $("audit-empty").hidden = page.items.length > 0;
}

// Jobs or the audit log: the tab shown is the one the refresh updates.
export function showTab(name) {
  for (const tab of ["jobs", "audit"]) {
    $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`${tab}-panel`).hidden = tab !== name;
  }
  if (name === "audit") return loadAudit();
  return Promise.resolve();
}

export const auditShown = () => !$("audit-panel").hidden;

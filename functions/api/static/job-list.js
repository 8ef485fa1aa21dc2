// --- the list of jobs ------------------------------------------------------------------------

import { ApiUnreachable, api, showError } from "./api.js";
import { clock, duration, megabytes, progressBar, when } from "./format.js";
import { toggleDetail } from "./job-detail.js";
import { $, MAX_PAGE, el, on, redraw, refreshSeconds, rowOf, view } from "./state.js";

export function filters() {
  const params = new URLSearchParams();
  if ($("filter-state").value) params.set("state", $("filter-state").value);
  // The API filters by queue or by command (each with the state), not both.
  // A tag or a param finds the jobs through the search index, where the other filters all apply.
  const tag = $("filter-tag").value.trim();
  const param = $("filter-param").value.trim();
  if (tag) params.set("tag", tag);
  if (param) params.set("param", param);
  const searching = Boolean(tag || param);
  if ($("filter-queue").value) params.set("queue", $("filter-queue").value);
  if ((searching || !$("filter-queue").value) && $("filter-command").value.trim()) {
    params.set("command", $("filter-command").value.trim());
  }
  return params;
}

export async function fetchJobs(count) {
  const jobs = [];
  let cursor = null;
  do {
    const params = filters();
    params.set("limit", String(Math.min(MAX_PAGE, count - jobs.length)));
    if (cursor) params.set("cursor", cursor);
    const page = await api("GET", `jobs?${params}`);
    jobs.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && jobs.length < count);
  return { jobs, cursor };
}

export async function refresh() {
  const mine = ++view.refreshes;
  try {
    const { jobs, cursor } = await fetchJobs(view.wanted);
    // A refresh started earlier (the timer's) may answer after a later one ("Load more"'s): its
    // list is older and shorter, and must not replace the newer one.
    if (mine !== view.refreshes) return;
    const listed = new Set(jobs.map((j) => j.id));
    // A job started here stays shown for a while even if the list does not have it yet.
    const started = view.order.filter((id) => !listed.has(id) && Date.now() - (view.startedHere.get(id) || 0) < 30000);
    for (const job of jobs) view.jobs.set(job.id, job);
    view.order = [...started, ...jobs.map((j) => j.id)];
    view.cursor = cursor;
    renderJobs();
    for (const follower of view.expanded.values()) follower.refreshGraph();
    showError("");
    $("updated").textContent = `updated ${clock(new Date())}`;
  } catch (error) {
    if (error instanceof ApiUnreachable) showError(`${error.message}. Retrying every ${refreshSeconds()} s.`);
  }
}

// Parents first, each followed by its dependents that are in the list, at any depth.
export function treeOrder() {
  const inList = new Set(view.order);
  const placed = new Set();
  const out = [];
  const place = (id, depth) => {
    if (placed.has(id) || !inList.has(id)) return;
    placed.add(id);
    out.push({ id, depth });
    for (const child of view.jobs.get(id).dependents || []) place(child, depth + 1);
  };
  for (const id of view.order) {
    const job = view.jobs.get(id);
    if (!job.parent_id || !inList.has(job.parent_id)) place(id, 0);
  }
  for (const id of view.order) place(id, 0);
  return out;
}

export function renderJobs() {
  const body = $("job-rows");
  const wanted = [];
  for (const { id, depth } of treeOrder()) {
    const job = view.jobs.get(id);
    const row = rowOf(id) || newRow(id);
    fillRow(row, job, depth);
    wanted.push(row);
    const follower = view.expanded.get(id);
    if (follower) {
      follower.update(job);
      wanted.push(follower.row);
    }
  }
  // Move only what is out of place: moving a node would lose an output panel's scroll position.
  let cursor = body.firstChild;
  for (const node of wanted) {
    if (node === cursor) cursor = cursor.nextSibling;
    else body.insertBefore(node, cursor);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
  $("empty").hidden = wanted.length > 0;
  $("load-more").hidden = !view.cursor;
}

export function newRow(id) {
  const toggle = el("button", { type: "button", class: "job-toggle", "aria-expanded": "false" });
  toggle.addEventListener("click", () => toggleDetail(id));
  const row = el("tr", { class: "job-row", "data-id": id });
  // Ticked rows are what a bulk action acts on, instead of the list's filters.
  const pick = el("input", { type: "checkbox", class: "pick", "aria-label": "Select for a bulk action" });
  pick.checked = view.picked.has(id);
  pick.addEventListener("change", () => {
    if (pick.checked) view.picked.add(id);
    else view.picked.delete(id);
    on.pickedChanged();
  });
  row.append(
    el("td", { class: "cell-pick" }, pick),
    el("td", { class: "cell-job" }, toggle),
    el("td", { class: "params" }),
    el("td", { class: "cell-state" }),
    el("td", { class: "cell-created" }),
    el("td", { class: "cell-started" }),
    el("td", { class: "cell-duration" }),
    el("td", { class: "cell-exit" }),
  );
  return row;
}

export function fillRow(row, job, depth) {
  const [, jobCell, paramsCell, stateCell, createdCell, startedCell, durationCell, exitCell] = row.children;
  const label = job.label || job.command;
  redraw(jobCell.firstChild, `${depth}|${label}`, () => [
    el("span", { class: "chevron", "aria-hidden": "true", text: "▸" }),
    depth ? el("span", { class: "tree", text: "↳ " }) : "",
    el("span", { class: "job-label", text: label }),
  ]);
  jobCell.style.paddingLeft = `${8 + depth * 22}px`;
  const extra = [el("span", { class: "job-id", text: job.id })];
  const facts = [`queue ${job.queue}`];
  if (job.priority) facts.push(`priority ${job.priority}`);
  // A schedule or a retry is its own starter: "by schedule"; a person or a role: "started by anna".
  if (job.started_by && job.started_by !== job.trigger) facts.push(`started by ${job.started_by}`);
  else if (job.trigger !== "api") facts.push(`by ${job.trigger}`);
  if (job.canceled_by) facts.push(`canceled by ${job.canceled_by}`);
  if (job.tags?.length) facts.push(job.tags.map((tag) => `#${tag}`).join(" "));
  if (job.run_at) facts.push(`run at ${when(job.run_at)}`);
  if (job.peak_memory_mb) facts.push(`peak ${megabytes(job.peak_memory_mb)}`);
  extra.push(el("span", { class: "job-facts", text: facts.join(" · ") }));
  // A join: drawn under its parent, and it names the other jobs it waits for by their keys.
  if (job.after?.length) {
    const names = job.after.map((id) => view.jobs.get(id)?.key || view.jobs.get(id)?.label || id);
    extra.push(el("span", { class: "after", text: `after ${names.join(", ")}` }));
  }
  const bar = progressBar(job);
  if (bar) extra.push(bar);
  if (job.waiting) extra.push(el("span", { class: "waiting", text: job.waiting }));
  if (job.reason) extra.push(el("span", { class: "reason", text: job.reason }));
  while (jobCell.childNodes.length > 1) jobCell.lastChild.remove();
  jobCell.append(...extra);
  row.dataset.state = job.state;
  row.dataset.parent = job.parent_id || "";
  row.dataset.depth = String(depth);
  const params = job.params.join(" ");
  paramsCell.replaceChildren(el("span", { text: params, title: params }));
  const attempts = job.retries?.max_attempts || 1;
  const attempt = attempts > 1 ? `attempt ${job.attempt} of ${attempts}` : "";
  if (stateCell.firstChild?.textContent !== job.state || (stateCell.children[1]?.textContent || "") !== attempt) {
    stateCell.replaceChildren(
      el("span", { class: `badge ${job.state}`, text: job.state }),
      attempt ? el("span", { class: "attempt", text: attempt }) : "",
    );
  }
  createdCell.textContent = when(job.created_at);
  createdCell.title = job.created_at;
  startedCell.textContent = when(job.started_at);
  startedCell.title = job.started_at || "";
  durationCell.textContent = duration(job);
  exitCell.textContent = job.exit_code ?? "";
}

// Running jobs' durations count up between refreshes.
setInterval(() => {
  for (const row of document.querySelectorAll('tr.job-row[data-state="running"]')) {
    const job = view.jobs.get(row.dataset.id);
    if (job) row.querySelector(".cell-duration").textContent = duration(job);
  }
}, 1000);

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

// eCommerce jobs: the back-office page. This module only wires it: its parts (state, token, api,
// format, definitions, stats, job-list, job-detail, replay, queues, audit, bulk) are ES modules with no build step, and
// none imports this one, nor one that imports it back (tests/unit/test_page_modules.py).

import { api, showError } from "./api.js";
import { auditShown, loadAudit, showTab } from "./audit.js";
import { countJobs, describeScope, startBulk, stopOrResume, toggleBulk } from "./bulk.js";
import { loadDefinitions } from "./definitions.js";
import { openJob, refresh, renderJobs, showNewJob } from "./job-list.js";
import { loadQueues } from "./queues.js";
import { $, PAGE_SIZE, REFRESH_KEY, TOKEN_KEY, el, on, refreshSeconds, view } from "./state.js";
import { STATS_EVERY_MS, loadStats } from "./stats.js";
import { askForToken, takeTokenFromForm, takeTokenFromUrl } from "./token.js";

on.refresh = refresh;
on.renderJobs = renderJobs;
on.showNewJob = showNewJob;
on.pickedChanged = describeScope;

// --- refreshing ------------------------------------------------------------------------------

function scheduleRefresh() {
  clearInterval(view.refreshTimer);
  view.refreshTimer = setInterval(() => {
    refresh();
    if (auditShown()) loadAudit().catch(() => {});
    loadQueues().catch(() => {}); // the list's refresh says when the API cannot be reached
  }, refreshSeconds() * 1000);
  const select = $("refresh-interval");
  const seconds = String(refreshSeconds());
  if (![...select.options].some((o) => o.value === seconds)) select.append(el("option", { value: seconds, text: `${seconds} s` }));
  select.value = seconds;
}

$("refresh-interval").addEventListener("change", (event) => {
  localStorage.setItem(REFRESH_KEY, event.target.value);
  const url = new URL(location.href);
  url.searchParams.delete("refresh");
  history.replaceState(null, "", url);
  scheduleRefresh();
});
$("refresh-now").addEventListener("click", refresh);
$("load-more").addEventListener("click", () => {
  view.wanted += PAGE_SIZE;
  refresh();
});
for (const id of ["filter-state", "filter-command", "filter-queue", "filter-tag", "filter-param"]) {
  $(id).addEventListener("change", () => {
    // Without a tag or a param, the API filters by queue or by command, not both.
    const searching = Boolean($("filter-tag").value.trim() || $("filter-param").value.trim());
    $("filter-command").disabled = !searching && Boolean($("filter-queue").value);
    describeScope();
    view.wanted = PAGE_SIZE;
    refresh();
  });
}
$("filters").addEventListener("submit", (event) => event.preventDefault());
$("audit-filters").addEventListener("submit", (event) => event.preventDefault());
for (const id of ["audit-actor", "audit-action"]) $(id).addEventListener("change", () => loadAudit());
const failed = (what) => (error) => alert(`Could not ${what}: ${error.message}`);
$("bulk-open").addEventListener("click", toggleBulk);
$("bulk-form").addEventListener("submit", (event) => {
  event.preventDefault();
  countJobs().catch(failed("count the jobs"));
});
$("bulk-action").addEventListener("change", describeScope);
$("bulk-since").addEventListener("change", describeScope);
$("bulk-start").addEventListener("click", () => startBulk().catch(failed("start the bulk action")));
for (const id of ["bulk-stop", "bulk-resume"]) $(id).addEventListener("click", (e) => stopOrResume(e).catch(failed(id)));
$("tab-jobs").addEventListener("click", () => showTab("jobs"));
$("tab-audit").addEventListener("click", () => showTab("audit").catch((error) => showError(error.message)));

// "vera (viewer)"; the page hides what the role may not do (the API refuses it anyway).
async function showWhoIsSignedIn() {
  const me = await api("GET", "me");
  $("me").textContent = me.role ? `${me.name} (${me.role})` : me.name;
  document.body.dataset.role = me.role || "admin";
}

// A link to a job (#job-ID, as a Job State Change event gives it) opens that job.
function openLinkedJob() {
  const linked = /^#job-([0-9A-Z]{26})$/.exec(location.hash);
  if (linked) openJob(linked[1]).catch((error) => showError(`Cannot open job ${linked[1]}: ${error.message}`));
}

$("token-form").addEventListener("submit", () => {
  takeTokenFromForm();
  start();
});

async function start() {
  takeTokenFromUrl();
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    askForToken("This page needs the token that make run printed (it is in the URL it prints).");
    return;
  }
  try {
    await showWhoIsSignedIn();
    await loadDefinitions();
    await loadQueues();
  } catch (error) {
    if (error.message !== "token refused") showError(`${error.message}. Reload to try again.`);
    return;
  }
  $("app").hidden = false;
  await refresh();
  openLinkedJob();
  window.addEventListener("hashchange", openLinkedJob);
  scheduleRefresh();
  loadStats();
  setInterval(loadStats, STATS_EVERY_MS);
}

start();

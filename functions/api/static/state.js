// eCommerce jobs: the back-office page of the job system. Plain JavaScript, no build step.
// Every piece of job data reaches the DOM through textContent, never innerHTML.

export const TOKEN_KEY = "jobs.token";
export const REFRESH_KEY = "jobs.refreshSeconds";
export const OPEN_STATES = new Set(["pending", "running"]);
export const PAGE_SIZE = 50;
export const MAX_PAGE = 100; // the API's most jobs in one page (jobsys/spec/limits.py, tied by a test)
export const OUTPUT_POLL_MS = 1000;

export const view = {
  jobs: new Map(), // id -> job
  order: [], // ids, newest first, as the API listed them
  cursor: null, // the API's cursor for the next page
  wanted: PAGE_SIZE, // how many jobs the list shows; "Load more" raises it
  expanded: new Map(), // id -> output follower of an expanded job
  startedHere: new Map(), // id -> when this page started it
  refreshTimer: null,
  refreshes: 0, // refreshes started: only the latest one's answer is shown
  settings: [], // the names of a job's settings, as GET /job-definitions gives them
  picked: new Set(), // ids of the rows ticked for a bulk action
};

export const $ = (id) => document.getElementById(id);

// What one part asks of another that imports it: app.js sets each to its part's function, so
// that no module imports one that imports it back (an expanded job's retry shows the new job,
// and its cancel refreshes the list that draws it).
export const on = {
  refresh: async () => {},
  renderJobs: () => {},
  showNewJob: async (_job) => {},
  pickedChanged: () => {},
};

export function rowOf(id) {
  return document.querySelector(`tr.job-row[data-id="${CSS.escape(id)}"]`);
}

// The seconds between two refreshes: the URL's `refresh`, else the one chosen on the page, else 10.
export function refreshSeconds() {
  const fromUrl = Number(new URLSearchParams(location.search).get("refresh"));
  if (fromUrl > 0) return fromUrl;
  return Number(localStorage.getItem(REFRESH_KEY)) || 10;
}

// Draws `node`'s children anew only when what they show (`drawn`) changed. The page refreshes
// every few seconds, and a press on a node that a refresh replaced before the release is no click.
export function redraw(node, drawn, draw) {
  if (node.dataset.drawn === drawn) return;
  node.dataset.drawn = drawn;
  node.replaceChildren(...draw());
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// eCommerce jobs: the back-office page of the job system. Plain JavaScript, no build step.
// Every piece of job data reaches the DOM through textContent, never innerHTML.

export const TOKEN_KEY = "jobs.token";
export const REFRESH_KEY = "jobs.refreshSeconds";
export const OPEN_STATES = new Set(["pending", "running"]);
export const PAGE_SIZE = 50;
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
};

export const $ = (id) => document.getElementById(id);

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

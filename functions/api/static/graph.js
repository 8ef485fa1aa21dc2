// --- a run drawn as a graph: its jobs by level, parents to dependents, fan-ins dashed ------------

const SVG = "http://www.w3.org/2000/svg";
const W = 170;
const H = 44;
const GAP_X = 46;
const GAP_Y = 14;

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

// One node a job, shown as its last attempt; ids of any attempt lead to it.
function nodesOf(jobs) {
  const byId = new Map(jobs.map((job) => [job.id, job]));
  const origin = (id) => byId.get(id)?.attempt_of || id;
  const latest = new Map();
  for (const job of jobs) {
    const key = origin(job.id);
    if (!latest.has(key) || latest.get(key).attempt < job.attempt) latest.set(key, job);
  }
  return { latest, origin };
}

// A job's column: one right of its parent and of every job it waits for.
function levelsOf(latest, origin) {
  const levels = new Map();
  const level = (key, seen = new Set()) => {
    if (levels.has(key)) return levels.get(key);
    if (seen.has(key)) return 0;
    seen.add(key);
    const job = latest.get(key);
    const before = [job.parent_id, ...(job.after || [])].filter(Boolean).map(origin).filter((k) => latest.has(k));
    const value = before.length ? 1 + Math.max(...before.map((k) => level(k, seen))) : 0;
    levels.set(key, value);
    return value;
  };
  for (const key of latest.keys()) level(key);
  return levels;
}

export function drawRun(jobs, shownId) {
  const { latest, origin } = nodesOf(jobs);
  const levels = levelsOf(latest, origin);
  const rows = new Map();
  const place = new Map();
  for (const key of [...latest.keys()].sort()) {
    const column = levels.get(key);
    const row = rows.get(column) || 0;
    rows.set(column, row + 1);
    place.set(key, { x: 4 + column * (W + GAP_X), y: 4 + row * (H + GAP_Y) });
  }
  const width = 8 + (Math.max(...levels.values()) + 1) * (W + GAP_X) - GAP_X;
  const height = 8 + Math.max(...rows.values()) * (H + GAP_Y) - GAP_Y;
  const edges = [];
  for (const [key, job] of latest) {
    const to = place.get(key);
    const from = [[job.parent_id, "parent"], ...(job.after || []).map((id) => [id, "after"])];
    for (const [id, kind] of from) {
      const start = id && place.get(origin(id));
      if (!start) continue;
      const [x1, y1, x2, y2] = [start.x + W, start.y + H / 2, to.x, to.y + H / 2];
      const bend = (x2 - x1) / 2;
      edges.push(svg("path", {
        class: `edge ${kind}`, "data-from": origin(id), "data-to": key,
        d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
      }));
    }
  }
  const nodes = [...latest].map(([key, job]) => {
    const { x, y } = place.get(key);
    const attempt = job.attempt > 1 ? ` · attempt ${job.attempt}` : "";
    const title = svg("title");
    title.textContent = `${job.label} (${job.id}): ${job.state}${attempt}`;
    const label = svg("text", { x: x + 10, y: y + 18, class: "label" });
    label.textContent = job.label.length > 24 ? `${job.label.slice(0, 23)}…` : job.label;
    const state = svg("text", { x: x + 10, y: y + 35, class: "state" });
    state.textContent = `${job.state}${attempt}`;
    const shown = key === origin(shownId) ? " shown" : "";
    return svg(
      "g",
      { class: `node ${job.state}${shown}`, "data-id": key, "data-state": job.state },
      title,
      svg("rect", { x, y, width: W, height: H, rx: 6 }),
      label,
      state,
    );
  });
  return svg(
    "svg",
    { class: "run-graph", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "The run, as a graph" },
    ...edges,
    ...nodes,
  );
}

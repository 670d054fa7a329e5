// Batches: running batches with live progress (server-sent events from
// /api/v1/events), finished reports, failed files with their reasons.
"use strict";

import { h, replace, formatTime } from "/static/dom.js";
import * as api from "/static/api.js";
import { apiUrl } from "/static/api.js";
import { errorNote, emptyNote, loading } from "/static/ui.js";

export function render(main, ctx) {
  const list = h("div", { class: "batch-list", id: "batch-list" });
  const live = h("span", { class: "live muted", id: "live-state" }, "connecting…");
  replace(main, h("section", { class: "screen batches-screen" },
    h("div", { class: "screen-head" }, h("h1", null, "Batches"), live,
      h("button", { type: "button", class: "quiet", dataset: { action: "refresh" }, on: { click: () => load() } }, "Refresh")),
    list));
  const rows = new Map();   // batch id -> {progress, label, status}
  let alive = true;
  const load = async () => {
    loading(list, "batches");
    let data;
    try {
      data = await api.get("/batches");
    } catch (e) {
      replace(list, errorNote(e, "Batches"));
      return;
    }
    if (!alive)
      return;
    rows.clear();
    const batches = (data.batches || []).slice().sort((a, b) => b.id - a.id);
    if (!batches.length) {
      replace(list, emptyNote("No batch has run on this archive yet."));
      return;
    }
    // the newest batch's report open: it is the one scanning staff look for
    replace(list, batches.map((b, i) => batchCard(b, rows, i === 0)));
  };
  load();

  // live progress: the events stream carries {id, status, pages_done, pages_total}
  const events = new EventSource(apiUrl("/events"), { withCredentials: true });
  events.addEventListener("open", () => {
    live.textContent = "live";
    live.className = "live ok";
  });
  events.addEventListener("error", () => {
    live.textContent = "not live: reconnecting…";
    live.className = "live muted";
    // a 401 ends the stream for good: ask the server whether the session lives
    if (events.readyState === EventSource.CLOSED)
      api.get("/session").catch(() => {});
  });
  events.addEventListener("batch", (ev) => {
    let b;
    try {
      b = JSON.parse(ev.data);
    } catch (e) {
      return;
    }
    const row = rows.get(String(b.id));
    if (!row) {
      load();   // a new batch: list it
      return;
    }
    const wasRunning = row.status !== "finished";
    updateProgress(row, b);
    if (wasRunning && b.status !== "running" && b.status !== "queued" && b.status !== "paused")
      load();   // finished: fetch its report
  });
  return () => {
    alive = false;
    events.close();
  };
}

function updateProgress(row, b) {
  const total = b.pages_total || 0;
  const done = b.pages_done || 0;
  if (total) {
    row.progress.max = total;
    row.progress.value = done;
  } else if (b.status === "running" || b.status === "queued") {
    // the total is known only at the end: a moving bar, no false fraction
    row.progress.removeAttribute("value");
  } else {
    row.progress.max = 1;
    row.progress.value = b.status === "finished" ? 1 : 0;
  }
  row.label.textContent = total ? `${done} of ${total} pages` : `${done} pages`;
  row.status.textContent = b.status;
  row.status.className = "badge status-" + b.status;
}

function batchCard(b, rows, open) {
  const progress = h("progress", { max: Math.max(1, b.pages_total || 0), value: b.pages_done || 0,
                                   "aria-label": `Batch ${b.id} progress` });
  const label = h("span", { class: "progress-label" });
  const status = h("span", { class: "badge status-" + b.status });
  const row = { progress, label, status };
  rows.set(String(b.id), row);
  updateProgress(row, b);
  // pages that could not be read, and pages set aside on purpose (blank
  // backs, cover sheets): both named with the reason, told apart
  const failed = (b.failed || []).filter((f) => f.outcome !== "set-aside");
  const setAside = (b.failed || []).filter((f) => f.outcome === "set-aside");
  const fileTable = (rows) => h("table", { class: "table" },
    h("thead", null, h("tr", null, ["File", "Page", "Reason"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", null, rows.map((f) => h("tr", null,
      h("td", { class: "file" }, f.file),
      h("td", { class: "num" }, f.page === null || f.page === undefined ? "—" : String(f.page + 1)),
      h("td", null, f.reason)))));
  return h("article", { class: "batch", dataset: { batch: b.id } },
    h("header", null,
      h("h2", null, `Batch #${b.id}`), status,
      h("span", { class: "muted" }, `started ${formatTime(b.started)}`, b.finished ? ` · finished ${formatTime(b.finished)}` : "")),
    h("div", { class: "progress-row" }, progress, label),
    (b.inputs || []).length ? h("p", { class: "inputs" }, "Inputs: ", b.inputs.join(", ")) : null,
    b.report ? h("details", { class: "report", open: open },
      h("summary", null, "Report"), batchReport(b.report)) : null,
    failed.length ? h("div", { class: "failed" },
      h("h3", null, `${failed.length} ${failed.length === 1 ? "file or page" : "files or pages"} could not be read`),
      fileTable(failed)) : null,
    setAside.length && !(b.report && Array.isArray(b.report.items)) ? h("details", { class: "set-aside" },
      h("summary", null, `${setAside.length} page${setAside.length === 1 ? "" : "s"} set aside (blank backs, cover and separator sheets)`),
      fileTable(setAside)) : null);
}

const COUNTS = [["pages_in", "pages in"], ["documents", "documents"], ["filed", "filed"], ["review", "in review"],
                ["set-aside", "set aside"], ["failed", "failed"], ["duplicate", "duplicate"]];

/** The batch report: its counts as figures, each page's outcome in a table
 * (in review: a link to the document), anything else as it comes. */
function batchReport(report) {
  const figures = COUNTS.filter(([k]) => typeof report[k] === "number").map(([k, label]) =>
    h("div", { class: ["figure", k === "failed" && report[k] ? "bad" : null] },
      h("span", { class: "figure-value" }, String(report[k])), h("span", { class: "figure-label" }, label)));
  if (typeof report.seconds === "number")
    figures.push(h("div", { class: "figure" }, h("span", { class: "figure-value" }, `${report.seconds.toFixed(1)} s`),
      h("span", { class: "figure-label" }, "time")));
  const items = Array.isArray(report.items) ? report.items : [];
  const known = new Set([...COUNTS.map(([k]) => k), "seconds", "items", "batch", "status"]);
  const rest = Object.fromEntries(Object.entries(report).filter(([k]) => !known.has(k)));
  return h("div", { class: "batch-report" },
    h("div", { class: "figures" }, figures),
    items.length ? h("table", { class: "table" },
      h("thead", null, h("tr", null, ["File", "Page", "Outcome", "Reason", "Document"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", null, items.map((it) => h("tr", { class: "outcome-" + it.outcome },
        h("td", { class: "file" }, it.path || it.file || ""),
        h("td", { class: "num" }, it.page === null || it.page === undefined ? "—" : String(it.page + 1)),
        h("td", null, h("span", { class: "badge status-" + it.outcome }, it.outcome)),
        h("td", null, it.reason || ""),
        h("td", { class: "num" }, it.document ? "#" + it.document : "—"))))) : null,
    Object.keys(rest).length ? reportView(rest) : null);
}

/** Any JSON report as nested definition lists and tables (its shape is the
 * batch report's, which may grow members). */
function reportView(value) {
  if (value === null || value === undefined)
    return h("span", { class: "muted" }, "—");
  if (Array.isArray(value)) {
    if (!value.length)
      return h("span", { class: "muted" }, "none");
    if (value.every((v) => v && typeof v === "object" && !Array.isArray(v))) {
      const cols = [...new Set(value.flatMap((v) => Object.keys(v)))];
      return h("table", { class: "table" },
        h("thead", null, h("tr", null, cols.map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", null, value.map((v) => h("tr", null, cols.map((c) =>
          h("td", null, typeof v[c] === "object" && v[c] !== null ? reportView(v[c]) : String(v[c] ?? "")))))));
    }
    return h("ul", null, value.map((v) => h("li", null, reportView(v))));
  }
  if (typeof value === "object")
    return h("dl", { class: "details" }, Object.entries(value).map(([k, v]) =>
      [h("dt", null, k), h("dd", null, reportView(v))]));
  return String(value);
}

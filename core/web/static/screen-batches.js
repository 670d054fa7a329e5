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
    replace(list, batches.map((b) => batchCard(b, rows)));
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
  row.progress.max = Math.max(1, total);
  row.progress.value = done;
  row.label.textContent = total ? `${done} of ${total} pages` : `${done} pages`;
  row.status.textContent = b.status;
  row.status.className = "badge status-" + b.status;
}

function batchCard(b, rows) {
  const progress = h("progress", { max: Math.max(1, b.pages_total || 0), value: b.pages_done || 0,
                                   "aria-label": `Batch ${b.id} progress` });
  const label = h("span", { class: "progress-label" });
  const status = h("span", { class: "badge status-" + b.status });
  const row = { progress, label, status };
  rows.set(String(b.id), row);
  updateProgress(row, b);
  const failed = b.failed || [];
  return h("article", { class: "batch", dataset: { batch: b.id } },
    h("header", null,
      h("h2", null, `Batch #${b.id}`), status,
      h("span", { class: "muted" }, `started ${formatTime(b.started)}`, b.finished ? ` · finished ${formatTime(b.finished)}` : "")),
    h("div", { class: "progress-row" }, progress, label),
    (b.inputs || []).length ? h("p", { class: "inputs" }, "Inputs: ", b.inputs.join(", ")) : null,
    b.report ? h("details", { class: "report" },
      h("summary", null, "Report"), reportView(b.report)) : null,
    failed.length ? h("div", { class: "failed" },
      h("h3", null, `${failed.length} file${failed.length === 1 ? "" : "s"} could not be read`),
      h("table", { class: "table" },
        h("thead", null, h("tr", null, ["File", "Page", "Reason"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", null, failed.map((f) => h("tr", null,
          h("td", { class: "file" }, f.file),
          h("td", { class: "num" }, f.page === null || f.page === undefined ? "—" : String(f.page + 1)),
          h("td", null, f.reason)))))) : null);
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

// Audit (auditors): who read which patient's documents, by user, patient
// and date; break-the-glass entries marked; CSV download of the same filter.
"use strict";

import { h, replace, route, formatTime } from "/static/dom.js";
import * as api from "/static/api.js";
import { apiUrl } from "/static/api.js";
import { errorNote, emptyNote, pager, loading } from "/static/ui.js";

const LIMIT = 50;
const FILTERS = ["user", "mrn", "from", "to"];

export function render(main, ctx) {
  const q = {};
  for (const k of FILTERS)
    q[k] = ctx.params.get(k) || "";
  const offset = Number(ctx.params.get("offset")) || 0;
  const input = (name, label, type = "text") => {
    const el = h("input", { id: "audit-" + name, name, type, value: q[name], autocomplete: "off" });
    return [h("label", { for: "audit-" + name }, label), el];
  };
  const form = h("form", { class: "filter-bar", id: "audit-form", role: "search" },
    input("user", "User"), input("mrn", "Patient (MRN)"), input("from", "From", "date"), input("to", "To", "date"),
    h("button", { type: "submit", class: "primary" }, "Show"),
    h("a", { class: "button", id: "audit-csv", href: apiUrl("/audit", { ...q, format: "csv" }), download: "audit.csv" },
      "Download CSV"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const next = {};
    for (const k of FILTERS)
      next[k] = form.elements[k].value.trim();
    ctx.navigate(route("audit", next));
  });
  const results = h("div", { class: "audit-results", id: "audit-results" });
  replace(main, h("section", { class: "screen audit-screen" },
    h("div", { class: "screen-head" }, h("h1", null, "Audit log")), form, results));
  load(results, q, offset, ctx);
  return null;
}

async function load(results, q, offset, ctx) {
  loading(results, "the audit log");
  let data;
  try {
    data = await api.get("/audit", { ...q, limit: LIMIT, offset, format: "json" });
  } catch (e) {
    replace(results, errorNote(e, "Audit log"));
    return;
  }
  const entries = data.entries || [];
  if (!entries.length) {
    replace(results, emptyNote("No entry matches."));
    return;
  }
  replace(results,
    h("p", { class: "muted" }, `${data.total} entries`),
    h("table", { class: "table audit-table", id: "audit-table" },
      h("thead", null, h("tr", null, ["Time", "User", "Action", "Patient", "Document", "Purpose", "Detail"].map((c) =>
        h("th", { scope: "col" }, c)))),
      h("tbody", null, entries.map((e) => h("tr", {
        class: e.break_glass ? "break-glass" : null,
        dataset: { entry: e.id, action: e.action },
      },
        h("td", { class: "date" }, formatTime(e.time)),
        h("td", null, e.user),
        h("td", null, e.action, e.break_glass ? h("span", { class: "badge break-glass", title: "read under break-the-glass" }, "break-glass") : null),
        h("td", { class: "mrn" }, e.mrn ? h("a", { href: route("audit", { ...q, mrn: e.mrn }) }, e.mrn) : "—"),
        h("td", { class: "num" }, e.document === null || e.document === undefined ? "—" : String(e.document)),
        h("td", null, e.purpose || ""),
        h("td", { class: "detail" }, typeof e.detail === "object" && e.detail !== null ? JSON.stringify(e.detail) : (e.detail || "")))))),
    pager(data.total, offset, LIMIT, (o) => ctx.navigate(route("audit", { ...q, offset: o }))));
}

// Chart: a patient's header (MRN, name, date of birth, merges, holds) and
// their documents grouped by type along one timeline.
"use strict";

import { h, replace, route, patientName, field, formatTime } from "/static/dom.js";
import * as api from "/static/api.js";
import { errorNote, emptyNote, loading } from "/static/ui.js";

export function render(main, ctx) {
  const mrn = ctx.args[0] || "";
  const screen = h("section", { class: "screen chart-screen" });
  replace(main, screen);
  if (!mrn) {
    replace(screen, h("h1", null, "Chart"), emptyNote("Find a patient first."));
    return null;
  }
  loading(screen, "the chart");
  api.get("/patients/" + encodeURIComponent(mrn)).then((p) => show(screen, p, ctx)).catch((e) => {
    replace(screen, h("h1", null, "Chart of MRN " + mrn),
      errorNote(e.status === 404 ? { message: `No patient has MRN ${mrn}.`, code: "not-found" } : e));
  });
  return null;
}

function show(screen, p, ctx) {
  const docs = p.documents || [];
  const header = h("header", { class: "patient-header", id: "patient-header" },
    h("h1", null, patientName(p) || "(no name)"),
    h("dl", { class: "patient-fields" },
      field("MRN", h("span", { class: "mrn", id: "chart-mrn" }, p.mrn)),
      field("Born", p.dob),
      field("Sex", p.sex),
      field("Documents", String(docs.length)),
      p.merged_mrns && p.merged_mrns.length ? field("Merged MRNs", p.merged_mrns.join(", ")) : null),
    p.merged_into ? h("p", { class: "notice" }, "This MRN was merged into ",
      h("a", { href: route("chart/" + encodeURIComponent(p.merged_into)) }, p.merged_into), ".") : null,
    (p.holds || []).length ? h("div", { class: "holds" },
      h("h2", null, "Legal holds"),
      h("ul", null, p.holds.map((hold) => h("li", { class: "hold" },
        h("strong", null, hold.matter || "Hold"), ` — ${hold.reason || ""}`,
        h("span", { class: "muted" }, ` placed by ${hold.placed_by || "?"} ${formatTime(hold.placed_at)}`))))) : null);

  if (!docs.length) {
    replace(screen, header, emptyNote("No documents are filed to this patient."));
    return;
  }
  replace(screen, header, timeline(docs), documentTable(docs));
}

/* Groups by type (in the order the types first appear by date) and lays
 * every document on one horizontal time axis shared by all the groups, so a
 * stay's discharge summary, operative report and lab results line up. */
function groups(docs) {
  const byType = new Map();
  for (const d of docs) {
    const key = d.type || "other";
    if (!byType.has(key))
      byType.set(key, { type: key, label: d.type_label || key, docs: [] });
    byType.get(key).docs.push(d);
  }
  for (const g of byType.values())
    g.docs.sort((a, b) => (a.date || "").localeCompare(b.date || "") || a.id - b.id);
  return [...byType.values()].sort((a, b) => a.label.localeCompare(b.label));
}

function dayNumber(date) {
  const t = Date.parse(date + "T00:00:00Z");
  return Number.isNaN(t) ? null : t / 86400000;
}

function timeline(docs) {
  const dated = docs.map((d) => dayNumber(d.date)).filter((n) => n !== null);
  let lo = Math.min(...dated);
  let hi = Math.max(...dated);
  if (!dated.length) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo < 30) {
    lo -= 15;
    hi += 15;
  }
  const pos = (d) => {
    const n = dayNumber(d.date);
    return n === null ? null : 2 + 96 * (n - lo) / (hi - lo);
  };
  // year ticks along the axis
  const ticks = [];
  const y0 = new Date(lo * 86400000).getUTCFullYear();
  const y1 = new Date(hi * 86400000).getUTCFullYear();
  const step = Math.max(1, Math.ceil((y1 - y0 + 1) / 12));
  for (let y = y0; y <= y1 + 1; y += step) {
    const n = Date.UTC(y, 0, 1) / 86400000;
    if (n >= lo && n <= hi)
      ticks.push(h("span", { class: "tick", style: { left: `${2 + 96 * (n - lo) / (hi - lo)}%` } }, String(y)));
  }
  const lanes = groups(docs).map((g) => h("div", { class: "lane" },
    h("div", { class: "lane-label" }, g.label, h("span", { class: "count" }, String(g.docs.length))),
    h("div", { class: "lane-track" }, g.docs.map((d) => {
      const left = pos(d);
      return h("a", {
        href: route("doc/" + d.id),
        class: ["marker", d.status === "review" ? "in-review" : null, d.held ? "held" : null],
        style: { left: `${left === null ? 0 : left}%` },
        title: `${d.title || g.label} — ${d.date || "no date"} — ${d.pages} page${d.pages === 1 ? "" : "s"}`,
        "aria-label": `${g.label} ${d.date || "no date"}: ${d.title || ""}`,
        dataset: { document: d.id },
      });
    }))));
  return h("section", { class: "timeline", "aria-label": "Documents along time" },
    h("h2", null, "Timeline"),
    h("div", { class: "lanes" }, lanes, h("div", { class: "lane axis" }, h("div", { class: "lane-label" }),
      h("div", { class: "lane-track" }, ticks))));
}

function documentTable(docs) {
  return h("section", { class: "chart-documents", "aria-label": "Documents by type" },
    groups(docs).map((g) => h("div", { class: "doc-group" },
      h("h2", null, g.label, h("span", { class: "count" }, String(g.docs.length))),
      h("table", { class: "table" },
        h("thead", null, h("tr", null, ["Date", "Title", "Pages", "Status", ""].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", null, g.docs.map((d) => h("tr", { dataset: { document: d.id } },
          h("td", { class: "date" }, d.date || "—"),
          h("td", null, h("a", { href: route("doc/" + d.id), class: "doc-link" }, d.title || g.label)),
          h("td", { class: "num" }, String(d.pages)),
          h("td", null, h("span", { class: "badge status-" + d.status }, d.status === "review" ? "in review" : d.status)),
          h("td", null, d.held ? h("span", { class: "badge held" }, "on hold") : null))))))));
}

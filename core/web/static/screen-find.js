// Find: one box for words, an MRN or a name; filters; hits with highlighted
// snippets; facets with counts; pagination; the user's saved searches.
"use strict";

import { h, replace, route, patientName } from "/static/dom.js";
import * as api from "/static/api.js";
import { askText, errorNote, emptyNote, pager, loading } from "/static/ui.js";

const LIMIT = 20;
const FILTERS = ["q", "mrn", "type", "from", "to", "status"];
let typesCache = null;

/** The document types the user may see (cached for the page's life). */
export async function loadTypes() {
  if (!typesCache)
    typesCache = api.get("/types").then((d) => d.types || []).catch((e) => {
      typesCache = null;
      throw e;
    });
  return typesCache;
}

function queryFromParams(params) {
  const q = {};
  for (const k of FILTERS)
    q[k] = params.get(k) || "";
  q.offset = Number(params.get("offset")) || 0;
  return q;
}

/** An MRN is one word of letters, digits and dashes with a digit in it; a
 * name ("SMITH, John") or a date of birth is looked up instead. */
function looksLikeMrn(text) {
  return /^[A-Za-z0-9-]+$/.test(text) && /[0-9]/.test(text) && !/^\d{4}-\d{2}-\d{2}$/.test(text);
}

function hasQuery(q) {
  return FILTERS.some((k) => q[k]);
}

export function render(main, ctx) {
  const query = queryFromParams(ctx.params);
  const go = (q) => ctx.navigate(route("find", q));

  const qInput = h("input", { id: "find-q", type: "search", name: "q", value: query.q,
                              placeholder: "Words, an MRN or a patient's name",
                              "aria-label": "Search words, MRN or name", autocomplete: "off" });
  const mrn = h("input", { id: "find-mrn", type: "text", name: "mrn", value: query.mrn, autocomplete: "off",
                           placeholder: "MRN, name or date of birth" });
  const type = h("select", { id: "find-type", name: "type" }, h("option", { value: "" }, "Any type"));
  const from = h("input", { id: "find-from", type: "date", name: "from", value: query.from });
  const to = h("input", { id: "find-to", type: "date", name: "to", value: query.to });
  const status = h("select", { id: "find-status", name: "status" },
    h("option", { value: "" }, "Any status"),
    h("option", { value: "filed", selected: query.status === "filed" }, "Filed"),
    h("option", { value: "review", selected: query.status === "review" }, "In review"));
  loadTypes().then((types) => {
    for (const t of types)
      type.append(h("option", { value: t.name, selected: t.name === query.type }, t.label || t.name));
  }).catch((e) => ctx.setStatus("Document types: " + e.message, "error"));

  const choices = h("div", { class: "patient-choices", id: "patient-choices", "aria-live": "polite" });
  const form = h("form", { class: "find-form", id: "find-form", role: "search" },
    h("div", { class: "find-box" }, qInput, h("button", { type: "submit", class: "primary", id: "find-submit" }, "Search")),
    h("fieldset", { class: "filters" },
      h("legend", null, "Filters"),
      h("label", { for: "find-mrn" }, "Patient"), mrn, choices,
      h("label", { for: "find-type" }, "Type"), type,
      h("label", { for: "find-from" }, "From"), from,
      h("label", { for: "find-to" }, "To"), to,
      h("label", { for: "find-status" }, "Status"), status,
      h("button", { type: "button", class: "quiet", dataset: { action: "clear-filters" },
                    on: { click: () => go({ q: qInput.value.trim() }) } }, "Clear filters")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const next = { q: qInput.value.trim(), mrn: mrn.value.trim(), type: type.value, from: from.value, to: to.value,
                   status: status.value };
    replace(choices);
    // the patient filter takes an MRN, or a name or date of birth to look up
    if (next.mrn && !looksLikeMrn(next.mrn)) {
      let found;
      try {
        found = (await api.get("/patients", { q: next.mrn })).patients || [];
      } catch (e) {
        replace(choices, errorNote(e, "Patient"));
        return;
      }
      if (found.length !== 1) {
        replace(choices, found.length === 0
          ? h("p", { class: "error" }, `No patient matches “${next.mrn}”.`)
          : [h("p", null, `${found.length} patients match; choose one:`),
             h("ul", { class: "patient-list" }, found.map((p) => h("li", null,
               h("a", { href: route("find", { ...next, mrn: p.mrn }) }, `${patientName(p)} · MRN ${p.mrn}`,
                 p.dob ? ` · born ${p.dob}` : ""))))]);
        return;
      }
      next.mrn = found[0].mrn;
    }
    go(next);
  });

  const saved = h("section", { class: "saved", "aria-labelledby": "saved-title" },
    h("h2", { id: "saved-title" }, "Saved searches"));
  const facets = h("section", { class: "facets", "aria-label": "Refine" });
  const results = h("section", { class: "results", id: "results", "aria-live": "polite" });

  replace(main, h("section", { class: "screen find-screen" },
    h("h1", { class: "visually-hidden" }, "Find"),
    h("div", { class: "find-layout" },
      h("aside", { class: "find-side" }, form, facets, saved),
      h("div", { class: "find-main" }, results))));
  qInput.focus();

  // saved searches live in a SQLite archive only
  if (ctx.can && !ctx.can("saved-searches"))
    saved.hidden = true;
  else
    renderSaved(saved, query, go, ctx);
  if (!hasQuery(query)) {
    replace(results, emptyNote("Type words from the page, an MRN or a patient's name (FAMILY, Given), or choose filters."));
    return null;
  }
  search(results, facets, query, go, ctx);
  return null;
}

async function search(results, facets, query, go, ctx) {
  loading(results, "results");
  const params = { ...query, limit: LIMIT };
  let data;
  try {
    data = await api.get("/search", params);
  } catch (e) {
    replace(results, errorNote(e, "Search"));
    return;
  }
  const terms = data.terms || [];
  const parts = [];
  if (data.patients && data.patients.length) {
    parts.push(h("section", { class: "patients", "aria-label": "Patients" },
      h("h2", null, "Patients"),
      h("ul", { class: "patient-list" }, data.patients.map((p) => h("li", null,
        h("a", { href: route("chart/" + encodeURIComponent(p.mrn)), class: "patient-link", dataset: { mrn: p.mrn } },
          h("strong", null, patientName(p)), " ", h("span", { class: "mrn" }, "MRN " + p.mrn),
          p.dob ? h("span", { class: "dob" }, " · born " + p.dob) : null,
          p.merged_into ? h("span", { class: "badge" }, " merged into " + p.merged_into) : null,
          p.documents !== undefined ? h("span", { class: "count" }, ` · ${p.documents} documents`) : null))))));
  }
  parts.push(h("h2", { class: "results-title" },
    data.total === 1 ? "1 page found" : `${data.total_is_estimate ? "About " : ""}${data.total} pages found`));
  if (!data.hits || !data.hits.length) {
    parts.push(emptyNote("Nothing matches. Fewer words, another spelling or wider dates may find it."));
  } else {
    parts.push(h("ol", { class: "hits", start: (data.offset || 0) + 1 }, data.hits.map((hit) => renderHit(hit, terms))));
    parts.push(pager(data.total, data.offset || 0, data.limit || LIMIT, (offset) => go({ ...query, offset }),
                     data.total_is_estimate));
  }
  replace(results, parts);
  renderFacets(facets, data.facets || {}, query, go);
  ctx.setStatus("");
}

function renderHit(hit, terms) {
  const target = route("doc/" + hit.document, { page: hit.seq, terms: terms.join(" ") });
  const snippet = h("p", { class: "snippet" }, (hit.snippet || []).map((s) => s.hit ? h("mark", null, s.text) : s.text));
  return h("li", { class: "hit", dataset: { document: hit.document, page: hit.page } },
    h("a", { href: target, class: "hit-link" },
      h("span", { class: "hit-title" }, hit.title || hit.type_label || hit.type || "Document " + hit.document),
      h("span", { class: "hit-page" }, ` — page ${hit.seq + 1}`)),
    h("div", { class: "hit-meta" },
      h("a", { href: route("chart/" + encodeURIComponent(hit.mrn || "")), class: "patient-link" },
        hit.patient || "(no patient)", hit.mrn ? ` · MRN ${hit.mrn}` : ""),
      h("span", { class: "type" }, hit.type_label || hit.type || ""),
      h("span", { class: "date" }, hit.date || "no date")),
    snippet);
}

function renderFacets(facets, data, query, go) {
  const group = (title, counts, onPick, isCurrent) => {
    const entries = Object.entries(counts || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (!entries.length)
      return null;
    return h("div", { class: "facet" },
      h("h2", null, title),
      h("ul", null, entries.map(([name, count]) => h("li", null,
        h("button", { type: "button", class: isCurrent(name) ? "facet-item current" : "facet-item",
                      dataset: { facet: title.toLowerCase(), value: name },
                      "aria-pressed": isCurrent(name) ? "true" : "false",
                      on: { click: () => onPick(name) } },
          h("span", null, name), h("span", { class: "count" }, String(count)))))));
  };
  loadTypes().catch(() => []).then((types) => {
    const label = Object.fromEntries((types || []).map((t) => [t.name, t.label || t.name]));
    const typeCounts = {};
    for (const [name, count] of Object.entries(data.type || {}))
      typeCounts[label[name] || name] = count;
    const byLabel = Object.fromEntries(Object.entries(label).map(([n, l]) => [l, n]));
    replace(facets,
      group("Type", typeCounts,
        (l) => go({ ...query, type: query.type === (byLabel[l] || l) ? "" : (byLabel[l] || l), offset: 0 }),
        (l) => query.type === (byLabel[l] || l)),
      group("Year", data.year,
        (y) => {
          const same = query.from === `${y}-01-01` && query.to === `${y}-12-31`;
          go({ ...query, from: same ? "" : `${y}-01-01`, to: same ? "" : `${y}-12-31`, offset: 0 });
        },
        (y) => query.from === `${y}-01-01` && query.to === `${y}-12-31`));
  });
}

async function renderSaved(container, query, go, ctx) {
  const list = h("ul", { class: "saved-list" });
  const save = h("button", { type: "button", dataset: { action: "save-search" }, disabled: !hasQuery(query) },
    "Save this search");
  save.addEventListener("click", async () => {
    const name = await askText("Save this search", "Name", query.q || query.mrn || "");
    if (!name)
      return;
    const q = {};
    for (const k of FILTERS)
      q[k] = query[k] || "";
    try {
      await api.post("/saved-searches", { name, query: q });
      ctx.setStatus(`Saved “${name}”.`);
      renderSaved(container, query, go, ctx);
    } catch (e) {
      ctx.setStatus("Saving the search: " + e.message, "error");
    }
  });
  replace(container, h("h2", { id: "saved-title" }, "Saved searches"), list, save);
  let data;
  try {
    data = await api.get("/saved-searches");
  } catch (e) {
    list.replaceWith(errorNote(e, "Saved searches"));
    return;
  }
  const searches = data.searches || [];
  if (!searches.length)
    list.replaceWith(emptyNote("None yet."));
  for (const s of searches) {
    list.append(h("li", null,
      h("a", { href: route("find", s.query || {}), class: "saved-link" }, s.name),
      h("button", { type: "button", class: "quiet small", title: `Delete “${s.name}”`,
                    "aria-label": `Delete saved search ${s.name}`,
                    on: { click: async () => {
                      try {
                        await api.del("/saved-searches/" + encodeURIComponent(s.id));
                        renderSaved(container, query, go, ctx);
                      } catch (e) {
                        ctx.setStatus("Deleting the saved search: " + e.message, "error");
                      }
                    } } }, "✕")));
  }
}

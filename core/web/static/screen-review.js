// Review queue: open items with reason, age and assignee; an item's page
// beside the identifiers read from it and the candidate patients, matches
// and mismatches marked; assign, split, merge, set type, resolve, each with
// the reason asked for.
"use strict";

import { h, replace, route, patientName, formatAge, formatTime } from "/static/dom.js";
import * as api from "/static/api.js";
import { askWhy, errorNote, emptyNote, loading } from "/static/ui.js";
import { pageView } from "/static/pageimage.js";
import { loadTypes } from "/static/screen-find.js";

const FIELDS = [["mrn", "MRN"], ["family", "Family name"], ["given", "Given name"], ["dob", "Born"], ["sex", "Sex"]];

export function render(main, ctx) {
  const status = ctx.params.get("status") === "resolved" ? "resolved" : "open";
  const itemId = ctx.args[0] || null;
  const list = h("section", { class: "review-list", "aria-label": "Review items" });
  const detail = h("section", { class: "review-detail", id: "review-detail", "aria-live": "polite" });
  const tabs = h("div", { class: "tabs", role: "tablist" },
    ["open", "resolved"].map((s) => h("a", {
      href: route("review", { status: s === "open" ? "" : s }), role: "tab",
      "aria-selected": s === status ? "true" : "false", class: s === status ? "current" : null,
    }, s === "open" ? "Open" : "Resolved")));
  replace(main, h("section", { class: "screen review-screen" },
    h("div", { class: "screen-head" }, h("h1", null, "Review queue"), tabs),
    h("div", { class: "review-layout" }, list, detail)));
  const state = { ctx, status, list, detail, itemId, alive: true };
  loadList(state);
  if (itemId)
    loadItem(state, itemId);
  else
    replace(detail, emptyNote("Choose an item to see its page and the candidate patients."));
  return () => {
    state.alive = false;
  };
}

async function loadList(state) {
  loading(state.list, "the queue");
  let data;
  try {
    data = await api.get("/review", { status: state.status });
  } catch (e) {
    replace(state.list, errorNote(e, "Review queue"));
    return;
  }
  if (!state.alive)
    return;
  const items = data.items || [];
  if (!items.length) {
    replace(state.list, emptyNote(state.status === "open" ? "Nothing waits for review." : "No item has been resolved yet."));
    return;
  }
  const linkTo = (item) => route("review/" + item.id, { status: state.status === "open" ? "" : state.status });
  replace(state.list, h("table", { class: "table review-table", id: "review-table" },
    h("thead", null, h("tr", null, ["Item", "Reason", "Age", "Assignee", "Type", "MRN read"].map((c) =>
      h("th", { scope: "col" }, c)))),
    h("tbody", null, items.map((item) => h("tr", {
      class: String(item.id) === String(state.itemId) ? "current" : null,
      dataset: { item: item.id },
    },
      h("td", null, h("a", { href: linkTo(item), class: "item-link" }, "#" + item.id)),
      h("td", { class: "reason" }, item.reason),
      h("td", { class: "num", title: formatTime(item.created) }, formatAge(item.age_seconds)),
      h("td", null, item.assignee || h("span", { class: "muted" }, "nobody")),
      h("td", null, item.type_label || item.type || "—"),
      h("td", { class: "mrn" }, (item.identifiers && item.identifiers.mrn) || "—"))))));
}

async function loadItem(state, id) {
  loading(state.detail, "the item");
  let item;
  try {
    item = (await api.get("/review/" + encodeURIComponent(id)));
    if (item && item.item)
      item = item.item;
  } catch (e) {
    replace(state.detail, errorNote(e, "Review item " + id));
    return;
  }
  if (!state.alive)
    return;
  showItem(state, item);
}

function showItem(state, item) {
  const ids = item.identifiers || {};
  const resolved = Boolean(item.resolved || item.status === "resolved" || state.status === "resolved");

  // the page: the item's pages from its document
  const pageBox = h("div", { class: "review-page", id: "review-page" });
  const pageNav = h("div", { class: "review-pages" });
  let doc = null;
  let current = 0;
  const drawPage = () => {
    if (!doc || !doc.pages.length) {
      replace(pageBox, emptyNote("This item has no page image."));
      return;
    }
    const pages = (item.pages && item.pages.length)
      ? doc.pages.filter((p) => item.pages.includes(p.id)) : doc.pages;
    const list = pages.length ? pages : doc.pages;
    current = Math.min(current, list.length - 1);
    const page = list[current];
    const width = Math.max(300, pageBox.clientWidth - 8);
    replace(pageBox, pageView(page, width, 0, null, () => false,
                              { alt: doc.id ? `Page ${page.seq + 1} of document ${doc.id}` : `Page ${page.id}` }).element);
    replace(pageNav, list.length > 1 ? list.map((p, i) => h("button", {
      type: "button", class: i === current ? "current" : null, "aria-pressed": i === current ? "true" : "false",
      on: { click: () => { current = i; drawPage(); } } }, `Page ${p.seq + 1}`)) : null);
  };
  if (resolved && !state.ctx.has("read-charts")) {
    // decided, the document has left the queue: reading it needs read-charts
    replace(pageBox, emptyNote("The document has left the queue with this decision."));
  } else if (item.document !== null && item.document !== undefined) {
    api.get("/documents/" + encodeURIComponent(item.document)).then((d) => {
      doc = d;
      doc.pages.sort((a, b) => a.seq - b.seq);
      if (state.alive)
        drawPage();
    }).catch((e) => replace(pageBox, errorNote(e, "Document " + item.document)));
  } else if ((item.pages || []).length) {
    // a page kept out of documents (unreadable, say): its size from its words
    const id = item.pages[0];
    api.get(`/pages/${id}/words`).then((w) => {
      doc = { id: null, pages: [{ id, seq: 0, width: w.width, height: w.height }] };
      if (state.alive)
        drawPage();
    }).catch((e) => replace(pageBox, errorNote(e, "Page " + id)));
  } else {
    replace(pageBox, emptyNote("This item has no page."));
  }

  const candidates = item.candidates || [];
  // a field neither the page nor any candidate has is left out
  const fields = FIELDS.filter(([k]) => k !== "sex" || ids[k] || candidates.some((c) => c[k]));
  const compare = h("table", { class: "table compare", id: "compare" },
    h("thead", null, h("tr", null, h("th", { scope: "col" }, ""), fields.map(([, label]) => h("th", { scope: "col" }, label)),
      h("th", { scope: "col" }, "Score"), h("th", { scope: "col" }, ""))),
    h("tbody", null,
      h("tr", { class: "read" }, h("th", { scope: "row" }, "Read from the page"),
        fields.map(([k]) => h("td", { class: "value" }, ids[k] || "—")), h("td"), h("td")),
      candidates.map((c, i) => h("tr", { class: "candidate", dataset: { mrn: c.mrn } },
        h("th", { scope: "row" }, `Candidate ${i + 1}`),
        fields.map(([k]) => {
          const cls = (c.matches || []).includes(k) ? "match" : (c.mismatches || []).includes(k) ? "mismatch" : null;
          return h("td", { class: ["value", cls], title: cls === "match" ? "matches the page" : cls === "mismatch" ? "differs from the page" : null },
            cls === "match" ? h("span", { class: "sr-only" }, "matches: ") : cls === "mismatch" ? h("span", { class: "sr-only" }, "differs: ") : null,
            c[k] || "—");
        }),
        h("td", { class: "num" }, c.score === undefined || c.score === null ? "" : Number(c.score).toFixed(2)),
        h("td", null, resolved ? null : h("button", { type: "button", dataset: { action: "assign-candidate", mrn: c.mrn },
          title: `File to ${patientName(c)}, MRN ${c.mrn}`, "aria-label": `File to ${patientName(c)}, MRN ${c.mrn}`,
          on: { click: () => act(state, item, "assign", { mrn: c.mrn }) } }, "File here…"))))));

  const actions = resolved ? h("p", { class: "notice", id: "item-resolved" },
    `Resolved${item.resolved_by ? " by " + item.resolved_by : ""}${item.resolved ? " " + formatTime(item.resolved) : ""}`,
    item.resolution ? `: ${item.resolution}` : ".") : h("div", { class: "actions", role: "group", "aria-label": "Decisions" },
    h("button", { type: "button", dataset: { action: "assign" }, on: { click: () => act(state, item, "assign") } }, "Assign to MRN…"),
    h("button", { type: "button", dataset: { action: "split" }, on: { click: () => act(state, item, "split") } }, "Split at page…"),
    h("button", { type: "button", dataset: { action: "merge" }, on: { click: () => act(state, item, "merge") } }, "Merge with document…"),
    h("button", { type: "button", dataset: { action: "type" }, on: { click: () => act(state, item, "type") } }, "Set type…"),
    h("button", { type: "button", class: "primary", dataset: { action: "resolve" }, on: { click: () => act(state, item, "resolve") } }, "Resolve…"),
    isMine(state, item)
      ? h("button", { type: "button", dataset: { action: "unclaim" }, on: { click: () => claim(state, item, "unclaim") } }, "Give back")
      : h("button", { type: "button", dataset: { action: "claim" }, on: { click: () => claim(state, item, "claim") } },
        item.assignee ? `Take over from ${item.assignee}` : "Take this item"));

  const extra = Object.entries(ids).filter(([k]) => !fields.some(([f]) => f === k) && ids[k]);
  replace(state.detail,
    h("div", { class: "review-item", dataset: { item: item.id } },
      h("div", { class: "review-page-col" }, pageNav, pageBox),
      h("div", { class: "review-facts" },
        h("h2", null, `Item #${item.id}: `, h("span", { class: "reason" }, item.reason)),
        h("p", { class: "muted" },
          `Waiting ${formatAge(item.age_seconds)} (since ${formatTime(item.created)}) · `,
          item.assignee ? `assigned to ${item.assignee}` : "assigned to nobody",
          item.document !== null && item.document !== undefined ? [" · ", h("a", { href: route("doc/" + item.document) }, `document #${item.document}`)] : null,
          item.type ? ` · type ${item.type_label || item.type}` : null),
        h("h3", null, "Identifiers and candidates"),
        candidates.length ? compare : [compare, emptyNote("The patient index has no candidate for what the page reads.")],
        extra.length ? h("dl", { class: "details" }, extra.map(([k, v]) => [h("dt", null, k), h("dd", null, String(v))])) : null,
        h("p", { class: "legend" }, h("span", { class: "match" }, "matches the page"), " ", h("span", { class: "mismatch" }, "differs from the page")),
        actions)));
  // draw after layout so the column's width is known
  requestAnimationFrame(() => drawPage());
}

// the session's user works the item: its assignee is their login (or, in
// the administrator's mode, a name that ends with it)
function isMine(state, item) {
  const login = state.ctx.user && state.ctx.user.login;
  return Boolean(login && item.assignee && (item.assignee === login || item.assignee.endsWith(":" + login)));
}

// taking or giving back an item decides nothing: no reason is asked
async function claim(state, item, action) {
  try {
    const res = await api.post(`/review/${encodeURIComponent(item.id)}/${action}`, {});
    state.ctx.setStatus(action === "claim" ? `Item #${item.id} is yours.` : `Item #${item.id} is back in the queue.`, "ok");
    loadList(state);
    if (res && res.item)
      showItem(state, res.item);
    else
      loadItem(state, item.id);
  } catch (e) {
    state.ctx.setStatus(`Item #${item.id}, ${action}: ${e.message}`, "error");
  }
}

async function act(state, item, action, preset = {}) {
  let fields;
  let title;
  let body;
  switch (action) {
  case "assign":
    title = preset.mrn ? `File item #${item.id} to MRN ${preset.mrn}` : `Assign item #${item.id} to a patient`;
    fields = preset.mrn ? [] : [{ name: "mrn", label: "MRN", value: (item.identifiers || {}).mrn || "" }];
    break;
  case "split":
    title = `Split the document of item #${item.id}`;
    fields = [{ name: "at", label: "New document starts at page", type: "number", min: 2, value: 2 }];
    break;
  case "merge":
    title = `Merge the document of item #${item.id} with another`;
    fields = [{ name: "with", label: "Other document (ID)", type: "number", min: 1 }];
    break;
  case "type": {
    let types = [];
    try {
      types = await loadTypes();
    } catch (e) {
      state.ctx.setStatus("Document types: " + e.message, "error");
      return;
    }
    title = `Set the type of item #${item.id}`;
    fields = [{ name: "type", label: "Type", type: "select", value: item.type,
                options: types.map((t) => ({ value: t.name, label: t.label || t.name })) }];
    break;
  }
  default:
    title = `Resolve item #${item.id}`;
    fields = [];
  }
  const answer = await askWhy(title, fields, { confirm: action === "resolve" ? "Resolve" : "Save" });
  if (!answer)
    return;
  body = { ...preset, ...answer };
  // pages are numbered from 1 on screen, from 0 in the API
  if (action === "split")
    body.at = answer.at - 1;
  try {
    const res = await api.post(`/review/${encodeURIComponent(item.id)}/${action}`, body);
    state.ctx.setStatus(`Item #${item.id}: ${action} recorded.`, "ok");
    loadList(state);
    if (res && res.item)
      showItem(state, res.item);
    else
      loadItem(state, item.id);
  } catch (e) {
    state.ctx.setStatus(`Item #${item.id}, ${action}: ${e.message}`, "error");
  }
}

// Viewer: a document's page image with zoom, fit-to-width and rotation,
// thumbnails of its pages, the search hits as boxes over the image, the OCR
// text beside it, metadata and provenance; keys for pages and hits.
"use strict";

import { h, replace, route, patientName, field, termMatcher, highlightText } from "/static/dom.js";
import * as api from "/static/api.js";
import { apiUrl } from "/static/api.js";
import { errorNote, loading } from "/static/ui.js";
import { pageView } from "/static/pageimage.js";

const ZOOMS = [0.25, 0.33, 0.5, 0.67, 0.75, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4];

export function render(main, ctx) {
  const id = ctx.args[0];
  const screen = h("section", { class: "screen viewer-screen" });
  replace(main, screen);
  const state = {
    ctx,
    screen,
    doc: null,
    seq: Math.max(0, Number(ctx.params.get("page")) || 0),
    zoom: 1,                   // times the fit-to-width size
    rotation: 0,               // quarter turns clockwise, for viewing only
    terms: (ctx.params.get("terms") || "").split(/\s+/).filter(Boolean),
    words: new Map(),          // page id -> words answer (promise)
    hits: [],                  // [{seq, word}] across the document, in order
    hit: -1,                   // index in hits of the current one
    alive: true,
  };
  state.matches = termMatcher(state.terms);
  loading(screen, "the document");

  const onKey = (ev) => keydown(state, ev);
  const observer = new ResizeObserver(() => {
    if (state.frame && state.lastFrameWidth !== state.frame.clientWidth)
      drawPage(state);
  });
  api.get("/documents/" + encodeURIComponent(id)).then((doc) => {
    if (!state.alive)
      return;
    state.doc = doc;
    state.doc.pages.sort((a, b) => a.seq - b.seq);
    state.seq = Math.min(state.seq, Math.max(0, doc.pages.length - 1));
    layout(state);
    observer.observe(state.frame);
    document.addEventListener("keydown", onKey);
    collectHits(state);
  }).catch((e) => {
    if (!state.alive)
      return;
    replace(screen, h("h1", null, "Document " + id),
      e.status === 404
        ? h("p", { class: "error", role: "alert", id: "document-refused", dataset: { error: "not-found" } },
            `Document ${id} does not exist, or you may not see it.`)
        : errorNote(e));
  });
  return () => {
    state.alive = false;
    observer.disconnect();
    document.removeEventListener("keydown", onKey);
  };
}

function currentPage(state) {
  return state.doc.pages[state.seq];
}

function wordsOf(state, page) {
  if (!state.words.has(page.id))
    state.words.set(page.id, api.get(`/pages/${page.id}/words`).catch((e) => {
      state.words.delete(page.id);
      throw e;
    }));
  return state.words.get(page.id);
}

function layout(state) {
  const { doc } = state;
  const p = doc.patient || {};
  const back = h("button", { type: "button", class: "quiet", dataset: { action: "back" },
                             on: { click: () => history.back() } }, "‹ Back");
  const title = h("div", { class: "viewer-title" },
    back,
    h("h1", null, doc.title || doc.type_label || `Document ${doc.id}`),
    h("span", { class: "muted" }, " · ",
      p.mrn ? h("a", { href: route("chart/" + encodeURIComponent(p.mrn)), class: "patient-link" },
        `${patientName(p)} · MRN ${p.mrn}`) : "no patient yet",
      ` · ${doc.type_label || doc.type || "no type"} · ${doc.date || "no date"}`));

  state.pageLabel = h("span", { class: "page-label", id: "page-label" });
  state.hitLabel = h("span", { class: "hit-label", id: "hit-label" });
  state.zoomLabel = h("span", { class: "zoom-label", id: "zoom-label" });
  const btn = (label, action, fn, titleText) => h("button", { type: "button", dataset: { action },
    title: titleText, "aria-label": titleText, on: { click: fn } }, label);
  const toolbar = h("div", { class: "toolbar", role: "toolbar", "aria-label": "Page" },
    h("span", { class: "group" },
      btn("‹", "previous-page", () => goPage(state, state.seq - 1), "Previous page (←)"),
      state.pageLabel,
      btn("›", "next-page", () => goPage(state, state.seq + 1), "Next page (→)")),
    h("span", { class: "group" },
      btn("▲", "previous-hit", () => goHit(state, -1), "Previous hit (Shift+N)"),
      state.hitLabel,
      btn("▼", "next-hit", () => goHit(state, +1), "Next hit (N)")),
    h("span", { class: "group" },
      btn("−", "zoom-out", () => zoomBy(state, -1), "Zoom out (−)"),
      state.zoomLabel,
      btn("+", "zoom-in", () => zoomBy(state, +1), "Zoom in (+)"),
      btn("Fit width", "fit-width", () => fit(state), "Fit to width (W)")),
    h("span", { class: "group" },
      btn("⟲", "rotate-left", () => rotate(state, -1), "Turn left (Shift+R)"),
      btn("⟳", "rotate-right", () => rotate(state, +1), "Turn right (R)")),
    h("span", { class: "keys muted" }, "Keys: ← → pages · N / Shift+N hits · + − zoom · W fit · R turn"));

  state.thumbs = h("nav", { class: "thumbs", "aria-label": "Pages" },
    doc.pages.map((pg, i) => h("button", {
      type: "button", class: "thumb", dataset: { seq: i, page: pg.id },
      "aria-label": `Page ${i + 1}`, on: { click: () => goPage(state, i) } },
      h("img", { src: apiUrl(`/pages/${pg.id}/image`, { width: 200 }), alt: "", loading: "lazy", width: 100,
                 height: Math.round(100 * pg.height / pg.width) }),
      h("span", { class: "thumb-number" }, String(i + 1)),
      h("span", { class: "thumb-hits", hidden: true }))));

  state.frame = h("div", { class: "page-frame", id: "page-frame", tabindex: "0", "aria-label": "Page image" });
  state.text = h("div", { class: "ocr-text", id: "ocr-text", tabindex: "0", "aria-label": "Recognised text" });
  state.details = h("dl", { class: "details", id: "details" });
  const side = h("aside", { class: "viewer-side" },
    h("h2", null, "Recognised text"), state.text,
    h("h2", null, "Document and page"), state.details);
  replace(state.screen, title, toolbar,
    h("div", { class: "viewer-layout" }, state.thumbs, state.frame, side));
  drawPage(state);
}

function fitWidth(state) {
  const page = currentPage(state);
  const avail = Math.max(200, state.frame.clientWidth - 32);
  // turned a quarter, the page's height lies across the frame
  return state.rotation % 2 ? avail * page.width / page.height : avail;
}

/** Draws the current page (image, boxes, text, details) for the state's
 * page, zoom and rotation. */
async function drawPage(state) {
  const page = currentPage(state);
  const { doc } = state;
  state.lastFrameWidth = state.frame.clientWidth;
  const display = fitWidth(state) * state.zoom;
  const seq = state.seq;
  state.pageLabel.textContent = `Page ${seq + 1} of ${doc.pages.length}`;
  state.zoomLabel.textContent = `${Math.round(state.zoom * 100)}%`;
  for (const t of state.thumbs.children) {
    const on = Number(t.dataset.seq) === seq;
    t.classList.toggle("current", on);
    t.setAttribute("aria-current", on ? "page" : "false");
  }
  const scrollTop = state.frame.scrollTop;
  let words = null;
  let wordsError = null;
  try {
    words = await wordsOf(state, page);
  } catch (e) {
    wordsError = e;
  }
  if (!state.alive || state.seq !== seq)
    return;
  const view = pageView(page, display, state.rotation, words, state.matches,
                        { alt: `Page ${seq + 1} of ${doc.title || "the document"}` });
  state.view = view;
  replace(state.frame, view.element);
  state.frame.scrollTop = scrollTop;
  markCurrentHit(state);

  if (wordsError)
    replace(state.text, errorNote(wordsError, "Text of this page"));
  else if (!words.text)
    replace(state.text, h("p", { class: "empty" }, "No text was recognised on this page."));
  else
    replace(state.text, h("div", { class: "ocr-body" }, highlightText(words.text, state.matches)));
  showDetails(state, page);
}

function showDetails(state, page) {
  const { doc } = state;
  const src = page.source || {};
  const pct = (v) => (v === null || v === undefined ? null : `${Math.round(v * (v <= 1 ? 100 : 1))}%`);
  replace(state.details,
    field("Patient", doc.patient && doc.patient.mrn ? `${patientName(doc.patient)} (MRN ${doc.patient.mrn}, born ${doc.patient.dob || "?"})` : null),
    field("Type", doc.type_label || doc.type),
    field("Type confidence", pct(doc.confidence)),
    field("Date", doc.date),
    field("Status", doc.status === "review" ? "in review" : doc.status),
    (doc.holds || []).length ? field("Holds", doc.holds.map((x) => x.matter || x.reason).join("; ")) : null,
    field("Document", `#${doc.id}`),
    field("Batch", doc.batch === null || doc.batch === undefined ? null : `#${doc.batch}`),
    field("Source file", src.file),
    field("Page in file", src.page === null || src.page === undefined ? null : String(src.page + 1)),
    field("Image", `${page.width} × ${page.height} px${page.dpi ? `, ${page.dpi} dpi` : ""}`),
    field("OCR confidence", pct(page.confidence)));
}

/* Words of every page are fetched once the first page is on screen, to
 * count and walk the hits across the document. */
async function collectHits(state) {
  if (!state.terms.length) {
    state.hitLabel.textContent = "no search";
    return;
  }
  state.hitLabel.textContent = "hits…";
  const all = [];
  for (let seq = 0; seq < state.doc.pages.length; seq++) {
    const page = state.doc.pages[seq];
    let words;
    try {
      words = await wordsOf(state, page);
    } catch (e) {
      continue;
    }
    if (!state.alive)
      return;
    let n = 0;
    (words.words || []).forEach((wd, index) => {
      if (state.matches(wd.text)) {
        all.push({ seq, word: index });
        n++;
      }
    });
    const badge = state.thumbs.children[seq].querySelector(".thumb-hits");
    badge.hidden = n === 0;
    badge.textContent = n ? `${n} hit${n === 1 ? "" : "s"}` : "";
  }
  state.hits = all;
  // the first hit on the page asked for is the current one
  state.hit = all.findIndex((x) => x.seq === state.seq);
  updateHitLabel(state);
  markCurrentHit(state);
}

function updateHitLabel(state) {
  const n = state.hits.length;
  state.hitLabel.textContent = n === 0 ? "no hits" : state.hit < 0 ? `${n} hits` : `hit ${state.hit + 1} of ${n}`;
}

function markCurrentHit(state) {
  if (!state.view)
    return;
  const cur = state.hits[state.hit];
  for (const box of state.view.boxes) {
    const on = Boolean(cur) && cur.seq === state.seq && Number(box.dataset.word) === cur.word;
    box.classList.toggle("current", on);
    if (on)
      box.scrollIntoView({ block: "center", inline: "nearest" });
  }
}

function goPage(state, seq) {
  if (!state.doc || seq < 0 || seq >= state.doc.pages.length || seq === state.seq)
    return;
  state.seq = seq;
  // the first hit of the new page becomes current
  const first = state.hits.findIndex((x) => x.seq === seq);
  if (first >= 0)
    state.hit = first;
  updateHitLabel(state);
  history.replaceState(null, "", route("doc/" + state.doc.id,
    { page: seq, terms: state.terms.join(" ") }));
  state.frame.scrollTop = 0;
  drawPage(state);
}

function goHit(state, step) {
  const n = state.hits.length;
  if (!n)
    return;
  state.hit = state.hit < 0 ? (step > 0 ? 0 : n - 1) : (state.hit + step + n) % n;
  updateHitLabel(state);
  const target = state.hits[state.hit];
  if (target.seq !== state.seq) {
    state.seq = target.seq;
    history.replaceState(null, "", route("doc/" + state.doc.id, { page: state.seq, terms: state.terms.join(" ") }));
    drawPage(state);
  } else {
    markCurrentHit(state);
  }
}

function zoomBy(state, step) {
  let i = ZOOMS.findIndex((z) => z >= state.zoom - 1e-6);
  if (i < 0)
    i = ZOOMS.length - 1;
  if (step > 0)
    i = ZOOMS[i] > state.zoom + 1e-6 ? i : Math.min(ZOOMS.length - 1, i + 1);
  else
    i = Math.max(0, i - 1);
  state.zoom = ZOOMS[i];
  drawPage(state);
}

function fit(state) {
  state.zoom = 1;
  drawPage(state);
}

function rotate(state, step) {
  state.rotation = (state.rotation + step + 4) % 4;
  drawPage(state);
}

function keydown(state, ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || document.querySelector("dialog[open]"))
    return;
  const t = ev.target;
  if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT"))
    return;
  const actions = {
    ArrowRight: () => goPage(state, state.seq + 1),
    ArrowLeft: () => goPage(state, state.seq - 1),
    PageDown: () => goPage(state, state.seq + 1),
    PageUp: () => goPage(state, state.seq - 1),
    Home: () => goPage(state, 0),
    End: () => goPage(state, state.doc.pages.length - 1),
    n: () => goHit(state, +1),
    N: () => goHit(state, -1),
    "+": () => zoomBy(state, +1),
    "=": () => zoomBy(state, +1),
    "-": () => zoomBy(state, -1),
    w: () => fit(state),
    W: () => fit(state),
    "0": () => fit(state),
    r: () => rotate(state, +1),
    R: () => rotate(state, -1),
  };
  const fn = actions[ev.key];
  if (fn) {
    ev.preventDefault();
    fn();
  }
}


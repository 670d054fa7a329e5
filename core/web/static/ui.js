// Pieces several screens share: the idle message, the "why" dialog, error
// and empty notes, the pager.
"use strict";

import { h, replace } from "/static/dom.js";

/** "Your session ended after N minutes without activity" (seconds when the
 * timeout is not a whole number of minutes, as in tests). */
export function describeIdle(seconds) {
  if (!seconds)
    return "Your session ended. Please log in again.";
  if (seconds % 60 === 0) {
    const m = seconds / 60;
    return `Your session ended after ${m} ${m === 1 ? "minute" : "minutes"} without activity. Please log in again.`;
  }
  return `Your session ended after ${seconds} ${seconds === 1 ? "second" : "seconds"} without activity. Please log in again.`;
}

/** A paragraph naming what went wrong (an ApiError's message). */
export function errorNote(error, what) {
  const text = error && error.message ? error.message : String(error);
  return h("p", { class: "error", role: "alert", dataset: { error: error && error.code ? error.code : "error" } },
    what ? `${what}: ${text}` : text);
}

export function emptyNote(text) {
  return h("p", { class: "empty" }, text);
}

/**
 * Asks for the fields of an action and its reason in a modal dialog.
 * fields: [{name, label, type: "text"|"number"|"select"|"textarea", options:
 * [{value,label}], value, required}]. Resolves to {name: value, why} or null
 * when cancelled. The reason is always required: every decision is audited
 * with it.
 */
export function askWhy(title, fields, { confirm = "Save", intro } = {}) {
  return new Promise((resolve) => {
    const inputs = {};
    const rows = [];
    for (const f of fields || []) {
      const id = "ask-" + f.name;
      let input;
      if (f.type === "select") {
        input = h("select", { id, name: f.name, required: f.required !== false },
          (f.options || []).map((o) => h("option", { value: o.value, selected: o.value === f.value }, o.label)));
      } else if (f.type === "textarea") {
        input = h("textarea", { id, name: f.name, rows: 3, required: f.required !== false }, f.value || "");
      } else {
        input = h("input", { id, name: f.name, type: f.type || "text", value: f.value ?? "",
                             min: f.min, max: f.max, required: f.required !== false,
                             autocomplete: "off" });
      }
      inputs[f.name] = input;
      rows.push(h("label", { for: id }, f.label), input);
    }
    const why = h("textarea", { id: "ask-why", name: "why", rows: 3, required: true,
                                placeholder: "Why: recorded in the audit log with your name" });
    const error = h("p", { class: "error", hidden: true });
    const form = h("form", { method: "dialog", class: "ask" },
      h("h2", null, title),
      intro ? h("p", null, intro) : null,
      h("div", { class: "form-grid" }, rows, h("label", { for: "ask-why" }, "Why"), why),
      error,
      h("div", { class: "buttons" },
        h("button", { type: "button", value: "cancel", class: "quiet", dataset: { action: "cancel" } }, "Cancel"),
        h("button", { type: "submit", value: "ok", class: "primary", dataset: { action: "confirm" } }, confirm)));
    const dialog = h("dialog", { class: "ask-dialog", "aria-label": title }, form);
    let answered = false;
    const finish = (value) => {
      if (answered)
        return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!why.value.trim()) {
        error.hidden = false;
        error.textContent = "Say why: every decision is recorded with its reason.";
        why.focus();
        return;
      }
      const out = { why: why.value.trim() };
      for (const [name, input] of Object.entries(inputs))
        out[name] = input.type === "number" ? Number(input.value) : input.value;
      finish(out);
    });
    form.querySelector("[data-action=cancel]").addEventListener("click", () => finish(null));
    dialog.addEventListener("cancel", () => finish(null));
    document.body.append(dialog);
    dialog.showModal();
    const first = Object.values(inputs)[0] || why;
    first.focus();
  });
}

/** Asks for one line of text (a saved search's name, say). */
export function askText(title, label, value = "") {
  return new Promise((resolve) => {
    const input = h("input", { id: "ask-text", type: "text", value, required: true, autocomplete: "off" });
    const form = h("form", { method: "dialog", class: "ask" },
      h("h2", null, title),
      h("div", { class: "form-grid" }, h("label", { for: "ask-text" }, label), input),
      h("div", { class: "buttons" },
        h("button", { type: "button", class: "quiet", dataset: { action: "cancel" } }, "Cancel"),
        h("button", { type: "submit", class: "primary", dataset: { action: "confirm" } }, "Save")));
    const dialog = h("dialog", { class: "ask-dialog", "aria-label": title }, form);
    let answered = false;
    const finish = (v) => {
      if (answered)
        return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(v);
    };
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (input.value.trim())
        finish(input.value.trim());
    });
    form.querySelector("[data-action=cancel]").addEventListener("click", () => finish(null));
    dialog.addEventListener("cancel", () => finish(null));
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

/**
 * Previous/next links for offset pagination: "21–40 of 312".
 * go(offset) is called with the new offset.
 */
export function pager(total, offset, limit, go, estimate) {
  offset = Number(offset) || 0;
  const first = total ? offset + 1 : 0;
  const last = Math.min(offset + limit, total);
  return h("nav", { class: "pager", "aria-label": "Pages of results" },
    h("button", { type: "button", disabled: offset <= 0, dataset: { action: "previous-results" },
                  on: { click: () => go(Math.max(0, offset - limit)) } }, "‹ Previous"),
    h("span", { class: "pager-count" }, `${first}–${last} of ${estimate ? "about " : ""}${total}`),
    h("button", { type: "button", disabled: last >= total, dataset: { action: "next-results" },
                  on: { click: () => go(offset + limit) } }, "Next ›"));
}

/** A "Loading…" placeholder in a container. */
export function loading(container, what) {
  replace(container, h("p", { class: "loading" }, `Loading ${what}…`));
}

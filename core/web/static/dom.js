// Building DOM nodes: every piece of data goes in as a text node or an
// attribute value, never as markup (no innerHTML anywhere in the UI).
"use strict";

/**
 * h(tag, attrs, ...children): an element. attrs: `class` (string or array),
 * `dataset` (object), `on` (object of event listeners), `style` (object of
 * CSS properties, set through the CSSOM so the strict CSP allows it), `hidden`,
 * `disabled`, `checked`, `value`; anything else is an attribute (null and
 * false leave it out). Children: nodes, strings (text), numbers, arrays,
 * null/undefined/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false)
        continue;
      if (key === "class")
        el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
      else if (key === "dataset")
        Object.assign(el.dataset, value);
      else if (key === "on")
        for (const [ev, fn] of Object.entries(value))
          el.addEventListener(ev, fn);
      else if (key === "style")
        for (const [prop, v] of Object.entries(value))
          el.style.setProperty(prop, String(v));
      else if (key === "hidden" || key === "disabled" || key === "checked" ||
               key === "selected" || key === "required" || key === "multiple")
        el[key] = Boolean(value);
      else if (key === "value")
        el.value = String(value);
      else
        el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children (see h()) to a node. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false)
      continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces a node's children. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** A date-time (ISO 8601 or seconds since 1970) as "YYYY-MM-DD HH:MM". */
export function formatTime(value) {
  if (value === null || value === undefined || value === "")
    return "";
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(d.getTime()))
    return String(value);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
         `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A duration in seconds as "45 s", "12 min", "3 h 5 min", "4 days". */
export function formatAge(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds))
    return "";
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60)
    return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60)
    return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48)
    return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} days`;
}

/** "FAMILY, Given" from a patient object (family, given). */
export function patientName(p) {
  if (!p)
    return "";
  const family = p.family ? String(p.family).toUpperCase() : "";
  return [family, p.given].filter(Boolean).join(", ");
}

/** A labelled value pair for a <dl>. */
export function field(label, value) {
  return [h("dt", null, label), h("dd", null, value === null || value === undefined || value === "" ? "—" : value)];
}

/** Words of a text as the archive's full-text index sees them: lowercase,
 * accents removed, split at everything that is not a letter or a digit
 * (SQLite's unicode61 tokenizer with remove_diacritics 2). */
export function tokens(text) {
  return String(text)
    .normalize("NFD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** A matcher for the search's terms (normalised words, "word*" for a
 * prefix): true when one of the text's tokens is one of them. */
export function termMatcher(terms) {
  const exact = new Set();
  const prefixes = [];
  for (const term of terms || []) {
    const t = String(term);
    if (t.endsWith("*")) {
      const p = tokens(t.slice(0, -1)).join("");
      if (p)
        prefixes.push(p);
    } else {
      for (const tok of tokens(t))
        exact.add(tok);
    }
  }
  if (!exact.size && !prefixes.length)
    return () => false;
  return (text) => tokens(text).some((tok) => exact.has(tok) || prefixes.some((p) => tok.startsWith(p)));
}

/** A text with the words the matcher accepts wrapped in <mark>. */
export function highlightText(text, matches) {
  const out = [];
  // split keeping separators: even indexes are words, odd are the rest
  const parts = String(text).split(/([^\p{L}\p{N}\p{M}]+)/u);
  let plain = "";
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 0 && parts[i] && matches(parts[i])) {
      if (plain)
        out.push(plain);
      plain = "";
      out.push(h("mark", null, parts[i]));
    } else {
      plain += parts[i];
    }
  }
  if (plain)
    out.push(plain);
  return out;
}

/** Query-string parameters of a hash route as an object. */
export function paramsObject(params) {
  const o = {};
  for (const [k, v] of params)
    o[k] = v;
  return o;
}

/** A hash route "#/name?k=v" from a path and parameters (empty ones left out). */
export function route(path, params) {
  const usp = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {}))
    if (v !== null && v !== undefined && v !== "")
      usp.set(k, String(v));
  const qs = usp.toString();
  return "#/" + path + (qs ? "?" + qs : "");
}

// Chartdesk web workstation: the session, the screens' router and the
// navigation. Plain ES modules, no build step; every screen builds DOM nodes
// (dom.js) from the JSON API (api.js).
"use strict";

import { h, replace } from "/static/dom.js";
import * as api from "/static/api.js";
import { describeIdle } from "/static/ui.js";
import * as login from "/static/screen-login.js";
import * as find from "/static/screen-find.js";
import * as chart from "/static/screen-chart.js";
import * as viewer from "/static/screen-viewer.js";
import * as review from "/static/screen-review.js";
import * as batches from "/static/screen-batches.js";
import * as audit from "/static/screen-audit.js";

// route name -> screen, its navigation label, the permission it needs and
// the archive's capability (GET /session "capabilities"; a PostgreSQL
// archive has no review queue nor batches)
const SCREENS = {
  find: { module: find, label: "Find", needs: "read-charts", key: "f" },
  chart: { module: chart, needs: "read-charts" },
  doc: { module: viewer, needs: ["read-charts", "review"] },
  review: { module: review, label: "Review", needs: "review", key: "r", capability: "review" },
  batches: { module: batches, label: "Batches", needs: "read-batches", key: "b", capability: "batches" },
  audit: { module: audit, label: "Audit", needs: "read-audit", key: "a" },
};

const app = {
  session: null,     // the answer of POST/GET /session
  cleanup: null,     // what the screen on show wants done when it goes
  idleTimer: null,
  lastActivity: 0,   // when the server last answered a request (ms)
  endingSession: false,
};

const main = document.getElementById("main");
const statusLine = document.getElementById("status");

/** A short message in the status line (errors stay until the next one). */
function setStatus(message, kind) {
  statusLine.textContent = message || "";
  statusLine.className = "status" + (kind ? " " + kind : "");
}

function has(permission) {
  const perms = app.session ? app.session.user.permissions || [] : [];
  const wanted = Array.isArray(permission) ? permission : [permission];
  return wanted.some((p) => perms.includes(p));
}

/** Whether the archive served can do @capability (older servers say nothing: all). */
function can(capability) {
  const caps = app.session ? app.session.capabilities : null;
  return !capability || !Array.isArray(caps) || caps.includes(capability);
}

function allowed(screen) {
  return has(screen.needs) && can(screen.capability);
}

function defaultRoute() {
  for (const [name, screen] of Object.entries(SCREENS))
    if (screen.label && allowed(screen))
      return "#/" + name;
  return "#/none";
}

function navigate(hash) {
  if (location.hash === hash)
    show();
  else
    location.hash = hash;
}

/* The server ends a session after idle_timeout seconds without a request;
 * the screen is cleared at the same moment, so no chart stays on an
 * unattended monitor. Every answered request restarts the count. */
function restartIdleTimer() {
  app.lastActivity = Date.now();
  clearTimeout(app.idleTimer);
  if (!app.session || !app.session.idle_timeout)
    return;
  app.idleTimer = setTimeout(sessionEnded, app.session.idle_timeout * 1000 + 500);
}

/** Leaves the screen on show and shows the login with the reason: the idle
 * timeout when that much time has passed since the last request, else only
 * that the session ended (disabled, its longest life reached, a restart). */
function sessionEnded() {
  if (!app.session || app.endingSession)
    return;
  const seconds = app.session.idle_timeout;
  const idle = !seconds || Date.now() - app.lastActivity >= seconds * 1000 - 1000;
  // the same person logging in again comes back to this screen; another does not
  sessionStorage.setItem("cd-after-login", JSON.stringify({ hash: location.hash, login: app.session.user.login }));
  app.endingSession = true;
  clearTimeout(app.idleTimer);
  leaveScreen();
  app.session = null;
  api.setCsrf(null);
  // the address leaves the screen too: the next person starts from the login
  history.replaceState(null, "", "#/login");
  renderChrome();
  showLogin(idle ? describeIdle(seconds) : "Your session has ended. Please log in again.");
  app.endingSession = false;
}

function leaveScreen() {
  if (app.cleanup) {
    try {
      app.cleanup();
    } catch (e) {
      console.error(e);
    }
  }
  app.cleanup = null;
}

function renderChrome() {
  const topbar = document.getElementById("topbar");
  const nav = document.getElementById("nav");
  const who = document.getElementById("whoami");
  if (!app.session) {
    topbar.hidden = true;
    replace(nav);
    who.textContent = "";
    return;
  }
  topbar.hidden = false;
  const current = (location.hash.match(/^#\/([a-z]+)/) || [])[1];
  replace(nav, Object.entries(SCREENS)
    .filter(([, s]) => s.label && allowed(s))
    .map(([name, s]) => h("a", {
      href: "#/" + name,
      class: current === name || (name === "find" && (current === "chart" || current === "doc")) ? "current" : null,
      "aria-current": current === name ? "page" : null,
      title: `${s.label} (Alt+${s.key.toUpperCase()})`,
      dataset: { screen: name },
    }, s.label)));
  const u = app.session.user;
  who.textContent = `${u.full_name || u.login} (${(u.roles || []).join(", ")})`;
}

function showLogin(message) {
  leaveScreen();
  setStatus("");
  login.render(main, {
    message,
    onLogin: (session) => {
      app.session = session;
      api.setCsrf(session.csrf);
      restartIdleTimer();
      const wanted = afterLogin(session.user.login);
      if (wanted)
        navigate(wanted);
      else if (!location.hash || location.hash === "#/" || location.hash.startsWith("#/login"))
        navigate(defaultRoute());
      else
        show();
    },
  });
}

/** The screen to open after a login: the one a session of the same user
 * ended on, or the address asked for before any login; once. */
function afterLogin(login) {
  const saved = sessionStorage.getItem("cd-after-login");
  sessionStorage.removeItem("cd-after-login");
  let wanted = null;
  try {
    wanted = JSON.parse(saved || "null");
  } catch (e) {
    wanted = null;
  }
  if (!wanted || typeof wanted.hash !== "string" || !wanted.hash.startsWith("#/") || wanted.hash.startsWith("#/login"))
    return null;
  if (wanted.login && wanted.login !== login)
    return null;
  return wanted.hash;
}

/** Shows the screen the location's hash names. */
function show() {
  if (!app.session) {
    // an address opened before logging in (a bookmark): anyone's to open
    if (location.hash && !location.hash.startsWith("#/login") && !sessionStorage.getItem("cd-after-login"))
      sessionStorage.setItem("cd-after-login", JSON.stringify({ hash: location.hash, login: null }));
    showLogin("");
    return;
  }
  const hash = location.hash || "";
  const [pathPart, query = ""] = hash.replace(/^#\/?/, "").split("?");
  const parts = pathPart.split("/").map(decodeURIComponent);
  const name = parts[0];
  if (!name || name === "login") {
    navigate(defaultRoute());
    return;
  }
  leaveScreen();
  setStatus("");
  renderChrome();
  const screen = SCREENS[name];
  if (!screen) {
    replace(main, h("section", { class: "screen" },
      h("h1", null, "Nothing here"),
      h("p", null, has(["read-charts", "review", "read-batches", "read-audit"])
        ? "This address names no screen. Choose one above."
        : "Your roles open none of the workstation's screens. Ask an administrator.")));
    return;
  }
  if (!has(screen.needs)) {
    replace(main, h("section", { class: "screen" },
      h("h1", null, "Not allowed"),
      h("p", { class: "error", dataset: { error: "forbidden" } },
        `This screen needs the ${[].concat(screen.needs).join(" or ")} permission, which your roles do not grant.`)));
    return;
  }
  if (!can(screen.capability)) {
    replace(main, h("section", { class: "screen" },
      h("h1", null, "Not available"),
      h("p", { class: "error", dataset: { error: "not-supported" } },
        `This archive (${app.session.archive || "?"}) has no ${screen.capability}: use a station's workstation.`)));
    return;
  }
  const ctx = {
    user: app.session.user,
    has,
    can,
    navigate,
    setStatus,
    params: new URLSearchParams(query),
    args: parts.slice(1),
  };
  try {
    app.cleanup = screen.module.render(main, ctx) || null;
  } catch (e) {
    console.error(e);
    setStatus("This screen failed: " + e.message, "error");
  }
  main.focus({ preventScroll: true });
}

async function logout() {
  try {
    await api.del("/session");
  } catch (e) {
    // already ended: the login screen is what the user wants anyway
  }
  clearTimeout(app.idleTimer);
  leaveScreen();
  app.session = null;
  api.setCsrf(null);
  renderChrome();
  history.replaceState(null, "", "#/login");
  showLogin("You have logged out.");
}

async function start() {
  api.onUnauthenticated(sessionEnded);
  api.onActivity(restartIdleTimer);
  document.getElementById("logout").addEventListener("click", logout);
  window.addEventListener("hashchange", show);
  // Alt+letter: the screens in the navigation bar
  document.addEventListener("keydown", (ev) => {
    if (!app.session || !ev.altKey || ev.ctrlKey || ev.metaKey)
      return;
    for (const [name, s] of Object.entries(SCREENS)) {
      if (s.key && ev.key.toLowerCase() === s.key && allowed(s)) {
        ev.preventDefault();
        navigate("#/" + name);
        return;
      }
    }
  });
  try {
    const session = await api.get("/session");
    app.session = session;
    api.setCsrf(session.csrf);
    restartIdleTimer();
  } catch (e) {
    app.session = null;
    if (e.status !== 401)
      setStatus(e.message, "error");
  }
  show();
}

start();

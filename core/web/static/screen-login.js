// Login: user name and password; the reason the last session ended.
"use strict";

import { h, replace } from "/static/dom.js";
import * as api from "/static/api.js";

export function render(main, { message, onLogin }) {
  const user = h("input", { id: "login-user", name: "user", type: "text", autocomplete: "username",
                            required: true, autocapitalize: "none", spellcheck: "false" });
  const password = h("input", { id: "login-password", name: "password", type: "password",
                                autocomplete: "current-password", required: true });
  const error = h("p", { id: "login-error", class: "error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", id: "login-submit" }, "Log in");
  const form = h("form", { class: "login", id: "login-form", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Chartdesk"),
    message ? h("p", { id: "login-message", class: "notice" }, message) : null,
    h("label", { for: "login-user" }, "User name"), user,
    h("label", { for: "login-password" }, "Password"), password,
    error, submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const session = await api.api("POST", "/session", { body: { user: user.value.trim(), password: password.value } });
      password.value = "";
      onLogin(session);
    } catch (e) {
      error.hidden = false;
      if (e.status === 401)
        error.textContent = "The user name or the password is wrong.";
      else if (e.status === 429)
        error.textContent = "Too many failed attempts: wait a few minutes before trying again.";
      else
        error.textContent = e.message;
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  replace(main, h("section", { class: "screen login-screen" }, form));
  user.focus();
}

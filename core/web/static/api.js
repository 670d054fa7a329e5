// The JSON API (/api/v1): one fetch wrapper that adds the CSRF token to
// state-changing requests, turns error bodies into ApiError and reports a
// 401 (session ended) to the application once.
"use strict";

const BASE = "/api/v1";

/** An error answer: HTTP status, the API's error code and its message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

const state = {
  csrf: null,
  onUnauthenticated: null,  // called on a 401 from anything but the login itself
  onActivity: null,         // called after every request the server answered
};

export function setCsrf(token) {
  state.csrf = token;
}

export function onUnauthenticated(fn) {
  state.onUnauthenticated = fn;
}

export function onActivity(fn) {
  state.onActivity = fn;
}

/** The URL of an API path with query parameters (empty ones left out). */
export function apiUrl(path, params) {
  const usp = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {}))
    if (v !== null && v !== undefined && v !== "")
      usp.set(k, String(v));
  const qs = usp.toString();
  return BASE + path + (qs ? "?" + qs : "");
}

/**
 * api(method, path, {params, body}): the parsed JSON answer (null for 204).
 * Throws ApiError for an error status, with the server's code and message.
 */
export async function api(method, path, { params, body } = {}) {
  const headers = { "Accept": "application/json" };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (method !== "GET" && method !== "HEAD" && state.csrf)
    headers["X-CSRF-Token"] = state.csrf;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(apiUrl(path, params), init);
  } catch (e) {
    throw new ApiError(0, "network", "The Chartdesk server cannot be reached: " + e.message);
  }
  const isLogin = path === "/session" && (method === "POST" || method === "GET");
  if (response.status !== 401 && state.onActivity)
    state.onActivity();
  if (response.status === 204)
    return null;
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
  }
  if (!response.ok) {
    const err = data && data.error ? data.error : {};
    const error = new ApiError(response.status, err.code || `http-${response.status}`,
                               err.message || `${method} ${path}: HTTP ${response.status} ${response.statusText}`);
    if (response.status === 401 && !isLogin && state.onUnauthenticated)
      state.onUnauthenticated(error);
    throw error;
  }
  return data;
}

export const get = (path, params) => api("GET", path, { params });
export const post = (path, body) => api("POST", path, { body });
export const del = (path) => api("DELETE", path);

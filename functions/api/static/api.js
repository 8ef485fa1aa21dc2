// --- the API ---------------------------------------------------------------------------------

import { $, TOKEN_KEY } from "./state.js";
import { askForToken } from "./token.js";

export class ApiUnreachable extends Error {}

// A refusal: its status, and the body that says why (a 409 of a unique definition names its open job).
export class ApiRefused extends Error {
  constructor(status, payload) {
    super((payload && payload.message) || `HTTP ${status}`);
    this.status = status;
    this.payload = payload || {};
  }
}

export async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  let response;
  try {
    response = await fetch(new URL(path, document.baseURI), {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiUnreachable(`cannot reach the job API (${error.message})`);
  }
  const payload = await response.json().catch(() => null);
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    askForToken("The token was refused. Paste the token that make run printed.");
    throw new Error("token refused");
  }
  if (response.status >= 500) throw new ApiUnreachable(`the job API answered ${response.status}`);
  if (!response.ok) throw new ApiRefused(response.status, payload);
  return payload;
}

export function showError(message) {
  const banner = $("error-banner");
  banner.textContent = message;
  banner.hidden = !message;
}

// --- the token -------------------------------------------------------------------------------

import { $, TOKEN_KEY } from "./state.js";

export function takeTokenFromUrl() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const token = hash.get("token");
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    // Out of the address bar, the history and any screenshot of it.
    history.replaceState(null, "", location.pathname + location.search);
  }
}

export function askForToken(why) {
  $("token-why").textContent = why;
  const dialog = $("token-dialog");
  if (!dialog.open) dialog.showModal();
}

// The token pasted in the dialog, kept for this tab.
export function takeTokenFromForm() {
  sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
  $("token-input").value = "";
}

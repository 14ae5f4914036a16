// Small helpers every page uses: the CSRF token, showing an error envelope, the header's
// credits balance, copy buttons, confirmations, and htmx error reporting.
(() => {
  "use strict";

  function csrfToken() {
    const cookie = document.cookie.split("; ").find((part) => part.startsWith("csrftoken="));
    if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch {
      return "";
    }
  }

  // Reads an answer's body as the API's error envelope, whatever the server sent.
  async function readEnvelope(response) {
    let body = null;
    try {
      body = await response.clone().json();
    } catch {
      body = null;
    }
    if (body && typeof body === "object") return body;
    return { success: false, error: `The server answered ${response.status} ${response.statusText}`.trim() };
  }

  function detailLines(details) {
    if (details == null || details === "") return [];
    if (typeof details === "string") return [details];
    if (Array.isArray(details)) return details.flatMap(detailLines);
    if (typeof details === "object") {
      return Object.entries(details).flatMap(([field, value]) =>
        detailLines(value).map((line) => (field === "non_field_errors" ? line : `${field.replaceAll("_", " ")}: ${line}`)),
      );
    }
    return [String(details)];
  }

  // An envelope as one line of plain text for a page's message: the error, then its details
  // (a string, a list, or fields with their messages), never as JSON.
  function errorText(envelope) {
    if (!envelope) return "";
    const title = String(envelope.error || envelope.message || "Something went wrong.");
    const lines = detailLines(envelope.details).filter((line) => line !== title);
    if (!lines.length) return title;
    return `${title.replace(/[.:]\s*$/, "")}: ${lines.join("; ")}`;
  }

  // Shows an envelope's message and details inside ``target`` (text only, never HTML).
  function showError(target, envelope) {
    if (!target) return;
    target.replaceChildren();
    if (!envelope) return;
    const box = document.createElement("div");
    box.className = "alert alert-error";
    const title = document.createElement("strong");
    title.textContent = envelope.error || envelope.message || "Something went wrong.";
    box.append(title);
    const lines = detailLines(envelope.details).filter((line) => line !== title.textContent);
    if (lines.length === 1) {
      // One detail reads as a sentence under the title, not as a list of one.
      const detail = document.createElement("p");
      detail.textContent = lines[0];
      box.append(detail);
    } else if (lines.length) {
      const list = document.createElement("ul");
      for (const line of lines) {
        const item = document.createElement("li");
        item.textContent = line;
        list.append(item);
      }
      box.append(list);
    }
    target.append(box);
  }

  function setBalance(value) {
    const element = document.getElementById("credits-balance");
    if (!element || value == null || String(value) === element.dataset.credits) return;
    element.dataset.credits = String(value);
    element.textContent = String(value);
    const pill = element.closest(".credits-pill");
    if (pill) {
      pill.classList.remove("flash");
      void pill.offsetWidth;
      pill.classList.add("flash");
    }
  }

  async function refreshBalance() {
    try {
      // In a team's space the header shows the team's wallet (base.html's data-team).
      const team = document.getElementById("credits-balance")?.dataset.team;
      const url = team ? `/api/teams/${team}/credits` : "/api/credits";
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) setBalance((await response.json()).credits.remaining);
    } catch {
      // The header keeps its last value; the next page load corrects it.
    }
  }

  async function copyText(text, button) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const scratch = document.createElement("textarea");
      scratch.value = text;
      document.body.append(scratch);
      scratch.select();
      document.execCommand("copy");
      scratch.remove();
    }
    if (button) {
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => (button.textContent = label), 1500);
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.getElementById(button.dataset.copy);
    if (source) copyText(source.value ?? source.textContent, button);
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  // htmx swaps nothing on an error answer; show the envelope's message near what was clicked.
  document.addEventListener("htmx:responseError", async (event) => {
    const xhr = event.detail.xhr;
    let envelope;
    try {
      envelope = JSON.parse(xhr.responseText);
    } catch {
      envelope = { error: `The server answered ${xhr.status}` };
    }
    const scope = event.detail.elt.closest("[data-error-scope]") || document;
    showError(scope.querySelector("[data-role=page-error]") || document.getElementById("page-error"), envelope);
  });
  document.addEventListener("htmx:sendError", () => {
    showError(document.getElementById("page-error"), { error: "Could not reach the server. Check your connection." });
  });

  window.Atelier = { csrfToken, readEnvelope, showError, errorText, setBalance, refreshBalance, copyText };
})();

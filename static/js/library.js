// The library's selection: a count, "select all", and the buttons that act on the selection
// (add to a collection, delete) enabled only when something is selected. Tiles arrive later by
// infinite scroll, so it listens on the document.
(() => {
  "use strict";

  const boxes = () => [...document.querySelectorAll('input[name=ids][form="bulk-delete"]')];
  const selected = () => boxes().filter((box) => box.checked);

  function refresh() {
    const count = selected().length;
    const label = document.getElementById("selected-count");
    if (label) label.textContent = `${count} selected`;
    for (const id of ["delete-selected", "collect-selected"]) {
      const button = document.getElementById(id);
      if (button) button.disabled = count === 0;
    }
    const all = document.getElementById("select-all");
    if (all) all.checked = count > 0 && count === boxes().length;
  }

  function showNameField() {
    const target = document.getElementById("collection-target");
    const name = document.getElementById("collection-name");
    if (target && name) name.hidden = target.value !== "new";
  }

  async function post(url, body) {
    const { csrfToken, readEnvelope } = window.Atelier;
    const response = await fetch(url, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
    const answer = await readEnvelope(response);
    if (!response.ok || answer.success === false) throw answer;
    return answer;
  }

  // Files the selected items in the chosen collection (made first when it is new) through the
  // collections API, then shows that collection.
  async function collect(event) {
    event.preventDefault();
    const form = event.target;
    const errorBox = document.getElementById("page-error");
    window.Atelier.showError(errorBox, null);
    const ids = selected().map((box) => box.value);
    const target = form.elements.namedItem("collection").value;
    const button = document.getElementById("collect-selected");
    button.disabled = true;
    try {
      let collectionId = target;
      if (target === "new") {
        const name = form.elements.namedItem("name").value.trim();
        if (!name) {
          window.Atelier.showError(errorBox, { error: "Name the new collection first." });
          form.elements.namedItem("name").focus();
          return;
        }
        collectionId = (await post(form.dataset.collectionsUrl, { name })).collection.id;
      }
      await post(`${form.dataset.collectionsUrl}/${collectionId}/assets`, { asset_ids: ids });
      window.location.assign(`/library?collection=${encodeURIComponent(collectionId)}`);
    } catch (envelope) {
      window.Atelier.showError(errorBox, envelope && envelope.error ? envelope : { error: "Could not reach the server." });
    } finally {
      button.disabled = selected().length === 0;
    }
  }

  document.addEventListener("change", (event) => {
    if (event.target.id === "select-all") {
      for (const box of boxes()) box.checked = event.target.checked;
    }
    if (event.target.id === "select-all" || event.target.name === "ids") refresh();
    if (event.target.id === "collection-target") showNameField();
  });
  document.addEventListener("submit", (event) => {
    if (event.target.id === "collect-form") collect(event);
  });
  document.addEventListener("htmx:afterSettle", () => {
    refresh();
    showNameField();
  });
})();

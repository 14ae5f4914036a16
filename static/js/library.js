// The library's selection: a count, "select all", and the delete button enabled only when
// something is selected. Tiles arrive later by infinite scroll, so it listens on the document.
(() => {
  "use strict";

  const boxes = () => [...document.querySelectorAll('input[name=ids][form="bulk-delete"]')];

  function refresh() {
    const count = boxes().filter((box) => box.checked).length;
    const label = document.getElementById("selected-count");
    const button = document.getElementById("delete-selected");
    if (label) label.textContent = `${count} selected`;
    if (button) button.disabled = count === 0;
    const all = document.getElementById("select-all");
    if (all) all.checked = count > 0 && count === boxes().length;
  }

  document.addEventListener("change", (event) => {
    if (event.target.id === "select-all") {
      for (const box of boxes()) box.checked = event.target.checked;
    }
    if (event.target.id === "select-all" || event.target.name === "ids") refresh();
  });
  document.addEventListener("htmx:afterSettle", refresh);
})();

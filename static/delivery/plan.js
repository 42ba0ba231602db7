// Iteration planning: drag stories between the backlog and the iteration (SortableJS).
// Each drop POSTs to the items URL; the buttons on each card are the keyboard alternative
// (plain forms that work without this script).
(function () {
  "use strict";
  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function updateCapacity(capacity) {
    const bar = document.getElementById("capacity-bar");
    const warning = document.getElementById("capacity-warning");
    const committed = document.querySelector("[data-testid=committed]");
    if (!bar || !capacity) return;
    bar.value = capacity.committed;
    bar.classList.toggle("over", capacity.over);
    if (committed) committed.textContent = capacity.committed;
    if (warning) {
      warning.hidden = !capacity.over;
      document.getElementById("over-by").textContent = capacity.over_by;
    }
  }
  function setCardAction(card, action) {
    const input = card.querySelector("input[name=action]");
    const button = card.querySelector(".story-move button");
    if (input) input.value = action;
    if (button && button.firstChild) button.firstChild.textContent = action === "add" ? "Add to iteration" : "Remove";
  }
  document.addEventListener("DOMContentLoaded", function () {
    const plan = document.getElementById("plan");
    if (!plan || plan.dataset.editable !== "true" || typeof Sortable === "undefined") return;
    const url = plan.dataset.itemsUrl;
    function onAdd(event) {
      const card = event.item;
      const action = event.to.dataset.list === "iteration" ? "add" : "remove";
      const body = new URLSearchParams({ story: card.dataset.storyId, action: action });
      fetch(url, {
        method: "POST", credentials: "same-origin", body: body,
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (!result.ok) {
          event.from.appendChild(card);  // put it back: the server refused
          window.PMHub.announce(Object.values(result.data.errors || {}).flat().join(" ") || "Could not move the story.", "error");
          return;
        }
        setCardAction(card, action === "add" ? "remove" : "add");
        card.dataset.saved = "true";
        updateCapacity(result.data.capacity);
      });
    }
    document.querySelectorAll(".story-list").forEach(function (list) {
      Sortable.create(list, { group: "plan", animation: 120, forceFallback: true, fallbackTolerance: 3, filter: ".empty", draggable: ".story-card", onAdd: onAdd });
    });
  });
})();

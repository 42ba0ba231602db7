// Iteration planning: drag stories between the backlog and the iteration (SortableJS).
// Each drop POSTs to the items URL; the buttons on each card are the keyboard alternative
// (plain forms that work without this script).
(function () {
  "use strict";
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
      const unit = document.getElementById("over-by-unit");
      if (unit) unit.textContent = Number(capacity.over_by) === 1 ? "point" : "points";
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
      // PMHub.fetch: CSRF header, and a rejection with a sentence for people on a non-2xx answer.
      window.PMHub.fetch(url, { method: "POST", body: body, headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          setCardAction(card, action === "add" ? "remove" : "add");
          card.dataset.saved = "true";
          updateCapacity(data.capacity);
          window.PMHub.announce(action === "add" ? "Story added to the iteration." : "Story taken out of the iteration.", "success");
        })
        .catch(function (error) {
          event.from.appendChild(card);  // put it back: the server refused
          const said = error.response
            ? error.response.json().then(function (data) { return Object.values(data.errors || {}).flat().join(" "); }, function () { return ""; })
            : Promise.resolve("");
          said.then(function (words) { window.PMHub.announce(words || error.message, "error"); });
        });
    }
    document.querySelectorAll(".story-list").forEach(function (list) {
      Sortable.create(list, { group: "plan", animation: 120, forceFallback: true, fallbackTolerance: 3, filter: ".empty, .load-more", draggable: ".story-card", onAdd: onAdd });
    });
  });
})();

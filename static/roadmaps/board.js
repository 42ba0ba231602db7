// Now/Next/Later board: SortableJS moves cards between columns; the move is saved as JSON
// (horizon + a rank between the neighbours) with the version read, so a stale card gets 409.
(() => {
  const csrf = () => {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  };
  const say = (text) => { const el = document.querySelector(".rm-status"); if (el) el.textContent = text; };
  const rankOf = (el) => (el ? parseFloat(el.dataset.rank) : null);

  function newRank(card) {
    const prev = rankOf(card.previousElementSibling), next = rankOf(card.nextElementSibling);
    if (prev === null && next === null) return 0;
    if (prev === null) return next - 1;
    if (next === null) return prev + 1;
    return (prev + next) / 2;
  }

  async function save(card, column) {
    const rank = newRank(card);
    const body = { version: parseInt(card.dataset.version, 10), horizon: column.dataset.horizon, rank };
    const resp = await fetch(card.dataset.moveUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const out = await resp.json().catch(() => ({}));
    if (resp.ok) {
      card.dataset.version = out.initiative.version;
      card.dataset.rank = out.initiative.rank;
      const select = card.querySelector("select[name=horizon]");
      if (select) select.value = out.initiative.horizon;
      const version = card.querySelector("input[name=version]");
      if (version) version.value = out.initiative.version;
      card.setAttribute("data-saved", "true");
      say(`Moved “${card.querySelector(".rm-card-title").textContent}”.`);
    } else {
      say(resp.status === 409 ? "Someone else moved this card; reload to see the latest board." : "Could not move the card.");
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const board = document.querySelector(".rm-board[data-editable=true]");
    if (!board || !window.Sortable) return;
    board.querySelectorAll(".rm-cards").forEach((list) => {
      window.Sortable.create(list, {
        // forceFallback: SortableJS's own mouse/touch dragging instead of the browser's native
        // drag and drop (the same on every browser and on touch screens, as the iteration plan).
        group: "roadmap-board", animation: 120, forceFallback: true, fallbackTolerance: 3,
        filter: "select, button, input", preventOnFilter: false,
        onEnd: (evt) => { if (evt.from !== evt.to || evt.oldIndex !== evt.newIndex) save(evt.item, evt.to); },
      });
    });
  });
})();

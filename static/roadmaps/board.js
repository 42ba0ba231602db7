// Now/Next/Later board: SortableJS moves cards between columns; the move is saved as JSON
// (horizon + a rank between the neighbours) with the version read, so a stale card gets 409.
// A long column shows its first cards; "Show N more" appends the rest (a fragment of <li>s).
// Until then the list's data-next-rank is the rank of its first card not shown, so a card dropped
// after the last one shown is ranked before it, as it would be with every card on the page.
// Saves go through PMHub.fetch (CSRF, a sentence for a refusal); outcomes are announced in the
// page's live region (PMHub.announce).
(() => {
  const rankOf = (el) => (el ? parseFloat(el.dataset.rank) : null);

  function newRank(card) {
    const list = card.parentElement;
    const prev = rankOf(card.previousElementSibling);
    let next = rankOf(card.nextElementSibling);
    if (next === null && list && list.dataset.nextRank) next = parseFloat(list.dataset.nextRank);
    if (prev === null && next === null) return 0;
    if (prev === null) return next - 1;
    if (next === null) return prev + 1;
    return (prev + next) / 2;
  }

  async function save(card, column) {
    const rank = newRank(card);
    const body = { version: parseInt(card.dataset.version, 10), horizon: column.dataset.horizon, rank };
    const title = card.querySelector(".rm-card-title").textContent;
    card.setAttribute("aria-busy", "true");
    try {
      const resp = await PMHub.fetch(card.dataset.moveUrl, {
        method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      const out = await resp.json();
      card.dataset.version = out.initiative.version;
      card.dataset.rank = out.initiative.rank;
      const select = card.querySelector("select[name=horizon]");
      if (select) select.value = out.initiative.horizon;
      const version = card.querySelector("input[name=version]");
      if (version) version.value = out.initiative.version;
      card.setAttribute("data-saved", "true");
      PMHub.announce(`Moved “${title}”.`, "success");
    } catch (error) {
      PMHub.announce(`“${title}” was not moved: ${error.message}`, "error");
    } finally {
      card.removeAttribute("aria-busy");
    }
  }

  async function showMore(button) {
    const list = document.getElementById(button.getAttribute("aria-controls"));
    if (!list || button.disabled) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      const resp = await fetch(button.dataset.moreUrl, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!resp.ok) throw new Error(`the server answered ${resp.status}`);
      const first = list.children.length;
      list.insertAdjacentHTML("beforeend", await resp.text());
      delete list.dataset.nextRank;
      button.remove();
      const link = list.children[first] && list.children[first].querySelector("a");
      if (link) link.focus();
    } catch (error) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      PMHub.announce(`More cards could not be loaded: ${error.message}`, "error");
    }
  }

  PMHub.onLoad((root) => {
    const board = root.matches && root.matches(".rm-board") ? root : root.querySelector(".rm-board");
    if (!board || board.dataset.bound) return;
    board.addEventListener("click", (event) => {
      const button = event.target.closest(".rm-more");
      if (button) showMore(button);
    });
    if (board.dataset.editable !== "true" || !window.Sortable) { board.dataset.bound = "1"; return; }
    board.dataset.bound = "1";
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

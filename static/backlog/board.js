// Status board (backlog and iteration): drag a card to another column, or pick a status in the
// card's menu, and the story's status changes through the one status endpoint (the backlog's
// status service). A refused move (409 stale version, 400 not a status, 403) is said in the
// page's live region and the card goes back to where it was. "Show more" appends the next cards.
(() => {
  "use strict";

  function columnOf(status) {
    return document.querySelector(`.bd-cards[data-status="${CSS.escape(status)}"]`);
  }

  // A column's header figures (stories and points) and its "No stories." line follow a move.
  function bumpCount(status, delta, points) {
    const column = document.querySelector(`.bd-column[data-status="${CSS.escape(status)}"]`);
    if (!column) return;
    const badge = column.querySelector(".badge"), sum = column.querySelector(".bd-points");
    const n = parseInt(badge.dataset.count, 10) + delta;
    badge.dataset.count = n;
    badge.textContent = n;
    const pts = parseInt(sum.dataset.points, 10) + delta * points;
    sum.dataset.points = pts;
    sum.textContent = `${pts} pt${pts === 1 ? "" : "s"}`;
    badge.title = `${n} stor${n === 1 ? "y" : "ies"}, ${pts} point${pts === 1 ? "" : "s"}`;
    column.querySelector(".bd-empty").hidden = n > 0;
  }

  function putBack(card, from, index) {
    const ref = from.children[index] || null;
    from.insertBefore(card, ref === card ? card.nextSibling : ref);
  }

  // Saves of one card run one after another: arrowing through a status menu sends a change per
  // key, and each must name the version the previous one produced (else a needless 409).
  function save(card, status, undo) {
    card.pending = (card.pending || Promise.resolve()).then(() => saveNow(card, status, undo));
    return card.pending;
  }

  // Save `card`'s new status; on refusal undo(): the card returns and the menu shows the old status.
  async function saveNow(card, status, undo) {
    const select = card.querySelector("select[name=status]");
    const oldStatus = card.dataset.status;
    const title = card.querySelector(".bd-card-title").textContent;
    const body = new URLSearchParams({ status, version: card.dataset.version });
    card.setAttribute("aria-busy", "true");
    try {
      const response = await PMHub.fetch(card.dataset.statusUrl, { method: "POST", body });
      const out = await response.json();
      card.dataset.version = out.version;
      card.dataset.status = out.status;
      card.querySelector("input[name=version]").value = out.version;
      if (select) select.value = out.status;
      const points = parseInt(card.dataset.points, 10) || 0;
      bumpCount(oldStatus, -1, points);
      bumpCount(out.status, +1, points);
      card.setAttribute("data-saved", "true");
      PMHub.announce(`“${title}” moved to ${out.status_label}.`);
    } catch (error) {
      undo();
      if (select) select.value = oldStatus;
      PMHub.announce(error.message, "error");
    } finally {
      card.removeAttribute("aria-busy");
    }
  }

  function bindCard(card) {
    if (card.dataset.bound) return;
    card.dataset.bound = "1";
    card.dataset.status = card.closest(".bd-cards").dataset.status;
    const form = card.querySelector(".bd-status-form");
    if (!form) return;
    // With the script, choosing a status moves the card at once (the Move button is for no script).
    form.querySelector(".bd-status-save").hidden = true;
    form.querySelector("select[name=status]").addEventListener("change", (event) => {
      const from = card.parentElement, index = [...from.children].indexOf(card);
      const target = columnOf(event.target.value);
      if (!target) return;
      target.prepend(card);
      save(card, event.target.value, () => putBack(card, from, index));
      event.target.focus();
    });
    form.addEventListener("submit", (event) => event.preventDefault());
  }

  async function showMore(link, board) {
    const params = new URLSearchParams({ status: link.dataset.status, offset: link.dataset.offset });
    if (board.dataset.iteration) params.set("iteration", board.dataset.iteration);
    try {
      const response = await PMHub.fetch(`${board.dataset.moreUrl}?${params}`);
      const list = columnOf(link.dataset.status);
      const before = list.children.length;
      list.insertAdjacentHTML("beforeend", await response.text());
      const added = list.children.length - before;
      list.querySelectorAll(".bd-card").forEach(bindCard);
      link.dataset.offset = parseInt(link.dataset.offset, 10) + added;
      if (response.headers.get("X-Board-Has-More") !== "1") link.remove();
      PMHub.announce(`${added} more card${added === 1 ? "" : "s"} shown.`);
    } catch (error) {
      PMHub.announce(error.message, "error");
    }
  }

  PMHub.onLoad((root) => {
    const board = root.querySelector && root.querySelector(".bd-board");
    if (!board || board.dataset.bound) return;
    board.dataset.bound = "1";
    board.querySelectorAll(".bd-card").forEach(bindCard);
    board.querySelectorAll(".bd-more").forEach((link) => link.addEventListener("click", (event) => {
      event.preventDefault();
      showMore(link, board);
    }));
    if (board.dataset.editable !== "true" || !window.Sortable) return;
    board.querySelectorAll(".bd-cards").forEach((list) => {
      window.Sortable.create(list, {
        // forceFallback: SortableJS's own mouse/touch dragging (the same everywhere, as the
        // iteration plan and roadmap board). sort: false: order within a column is the backlog's
        // rank, set on the list; the board changes status only.
        group: "status-board", sort: false, animation: 120, forceFallback: true, fallbackTolerance: 3,
        filter: "select, button, input, a", preventOnFilter: false,
        onEnd: (evt) => {
          if (evt.from === evt.to) return;
          save(evt.item, evt.to.dataset.status, () => putBack(evt.item, evt.from, evt.oldIndex));
        },
      });
    });
  });
})();

// Backlog list: drag and drop (SortableJS), keyboard moves, inline-edit shortcuts.
// No inline scripts (CSP): data comes from data-* attributes.
(function () {
  "use strict";

  function storyRows(tbody) {
    return Array.prototype.filter.call(tbody.children, function (el) {
      return el.classList && el.classList.contains("story-row");
    });
  }

  // POST a move: before the next story, or after the previous one.
  function sendMove(row) {
    var next = row.nextElementSibling;
    while (next && !next.classList.contains("story-row")) next = next.nextElementSibling;
    var prev = row.previousElementSibling;
    while (prev && !prev.classList.contains("story-row")) prev = prev.previousElementSibling;
    var body = new URLSearchParams();
    if (next) body.set("before", next.dataset.storyId);
    else if (prev) body.set("after", prev.dataset.storyId);
    else return Promise.resolve();
    row.setAttribute("aria-busy", "true");
    // PMHub.fetch adds the CSRF header and rejects on a non-2xx answer with a sentence for people.
    return window.PMHub.fetch(row.dataset.moveUrl, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
    }).then(function () {
      row.removeAttribute("aria-busy");
      row.dataset.moved = "true";
      document.body.dataset.lastMove = row.dataset.storyId;
    }, function (error) {
      row.removeAttribute("aria-busy");
      window.PMHub.announce(error.message + " The page reloads to show the saved order.", "error");
      window.setTimeout(function () { window.location.reload(); }, 1500);
    });
  }

  function focusRow(row) {
    if (!row) return;
    document.querySelectorAll(".story-row.focused").forEach(function (r) { r.classList.remove("focused"); });
    row.classList.add("focused");
    row.focus();
  }

  function init() {
    var tbody = document.getElementById("backlog-rows");
    if (!tbody) {
      // Story page: auto-submit checklist toggles (delegated: live updates replace the list).
      document.addEventListener("change", function (event) {
        var input = event.target;
        if (input.matches && input.matches("input[data-autosubmit]") && input.form) { input.form.submit(); }
      });
      return;
    }
    // The bulk-edit bar shows only while stories are selected.
    var bulk = document.querySelector("[data-bulk-bar]");
    function syncBulk() {
      if (!bulk) return;
      var n = tbody.querySelectorAll(".story-row input[type=checkbox]:checked").length;
      bulk.hidden = n === 0;
    }
    tbody.addEventListener("change", syncBulk);
    syncBulk();
    var sortable = tbody.dataset.sortable === "true";
    if (sortable && window.Sortable) {
      window.Sortable.create(tbody, {
        handle: ".drag-handle",
        draggable: ".story-row",
        animation: 120,
        onEnd: function (evt) {
          if (evt.oldIndex !== evt.newIndex) sendMove(evt.item);
        },
      });
    }
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT");
      if (typing) return;
      var rows = storyRows(tbody);
      var current = document.querySelector(".story-row.focused") || (target.closest && target.closest(".story-row"));
      var index = current ? rows.indexOf(current) : -1;
      if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown") && current && sortable) {
        event.preventDefault();
        if (event.key === "ArrowUp" && index > 0) {
          tbody.insertBefore(current, rows[index - 1]);
        } else if (event.key === "ArrowDown" && index < rows.length - 1) {
          tbody.insertBefore(current, rows[index + 1].nextSibling);
        } else {
          return;
        }
        sendMove(current);
        focusRow(current);
        return;
      }
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      // Single-key shortcuts can be turned off (WCAG 2.1.4): speech users say words, not keys.
      if (!window.PMHub.shortcutsEnabled() && event.key !== "Enter") return;
      if (event.key === "j") {
        focusRow(rows[Math.min(index + 1, rows.length - 1)]);
      } else if (event.key === "k") {
        focusRow(rows[Math.max(index - 1, 0)]);
      } else if (event.key === "e" && current) {
        var edit = current.querySelector(".edit-button");
        if (edit) { event.preventDefault(); edit.click(); }
      } else if (event.key === "x" && current) {
        var box = current.querySelector("input[type=checkbox]");
        if (box) { box.checked = !box.checked; syncBulk(); }
      } else if (event.key === "Enter" && current && target === current) {
        var link = current.querySelector("a[data-testid=story-title]");
        if (link) link.click();
      }
    });
    tbody.addEventListener("click", function (event) {
      var row = event.target.closest && event.target.closest(".story-row");
      if (row) {
        document.querySelectorAll(".story-row.focused").forEach(function (r) { r.classList.remove("focused"); });
        row.classList.add("focused");
      }
    });
    // After an inline editor arrives, focus its first field.
    document.body.addEventListener("htmx:afterSwap", function (event) {
      var field = event.target && event.target.querySelector && event.target.querySelector("[data-autofocus]");
      if (field) field.focus();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

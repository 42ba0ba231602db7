// Presentation mode (templates/roadmaps/present.html): one slide at a time, full screen where the
// browser allows it. Keys: arrows, Page Up/Down, Home/End always (they are not character keys);
// the single-character shortcuts (space, n, p, f) only while shortcuts are on (WCAG 2.1.4,
// PMHub.shortcutsEnabled()).
(function () {
  "use strict";
  const deck = document.querySelector("[data-deck]");
  if (!deck) return;
  const slides = Array.from(deck.querySelectorAll("[data-slide]"));
  const counter = document.querySelector("[data-deck-counter]");
  const live = document.querySelector("[data-deck-live]");
  let current = 0;

  function shortcutsOn() {
    if (window.PMHub && typeof window.PMHub.shortcutsEnabled === "function") return window.PMHub.shortcutsEnabled();
    try { return localStorage.getItem("pmhub.shortcuts") !== "off"; } catch (e) { return true; }
  }

  function show(index, announce) {
    current = Math.max(0, Math.min(slides.length - 1, index));
    slides.forEach((slide, i) => {
      slide.classList.toggle("is-current", i === current);
      slide.setAttribute("aria-hidden", i === current ? "false" : "true");
    });
    if (counter) counter.textContent = `${current + 1} / ${slides.length}`;
    if (announce && live) live.textContent = slides[current].getAttribute("aria-label") || "";
    if (history.replaceState) history.replaceState(null, "", `#slide-${current + 1}`);
    deck.dataset.current = String(current + 1);
  }

  deck.classList.add("is-live");
  const fromHash = /^#slide-(\d+)$/.exec(location.hash);
  show(fromHash ? parseInt(fromHash[1], 10) - 1 : 0, false);

  const on = (selector, handler) => {
    const el = document.querySelector(selector);
    if (el) el.addEventListener("click", handler);
    return el;
  };
  on("[data-deck-prev]", () => show(current - 1, true));
  on("[data-deck-next]", () => show(current + 1, true));
  on("[data-deck-print]", () => window.print());
  const full = document.querySelector("[data-deck-fullscreen]");
  if (full && document.fullscreenEnabled && document.documentElement.requestFullscreen) {
    full.hidden = false;
    full.addEventListener("click", toggleFullscreen);
  }
  function toggleFullscreen() {
    if (!document.fullscreenEnabled) return;
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch(() => {});
  }

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    const nav = { ArrowRight: 1, ArrowDown: 1, PageDown: 1, ArrowLeft: -1, ArrowUp: -1, PageUp: -1 };
    if (event.key in nav) {
      event.preventDefault();
      show(current + nav[event.key], true);
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      show(event.key === "Home" ? 0 : slides.length - 1, true);
    } else if (shortcutsOn()) {
      const key = event.key.toLowerCase();
      if (key === " " && target && /^(BUTTON|A)$/.test(target.tagName)) return;  // space presses the button
      if (key === " " || key === "n") { event.preventDefault(); show(current + (event.shiftKey ? -1 : 1), true); }
      else if (key === "p") { event.preventDefault(); show(current - 1, true); }
      else if (key === "f") { event.preventDefault(); toggleFullscreen(); }
    }
  });
  // Printing shows every slide (print stylesheet); nothing to undo afterwards.
})();

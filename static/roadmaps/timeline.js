// Timeline: dependency lines (SVG) and, for editors, dragging bars sideways to change dates.
// Saves go through PMHub.fetch (CSRF, a sentence for a refusal); outcomes are announced in the
// page's live region (PMHub.announce).
(() => {
  const DAY = 86400000;
  const iso = (d) => d.toISOString().slice(0, 10);
  const addDays = (s, n) => { if (!s) return s; const d = new Date(s + "T00:00:00Z"); return iso(new Date(d.getTime() + n * DAY)); };

  function drawLines(root) {
    const svg = root.querySelector(".rm-lines");
    const data = document.getElementById("rm-lines-data");
    if (!svg || !data) return;
    const lines = JSON.parse(data.textContent);
    const box = svg.getBoundingClientRect();
    const ns = "http://www.w3.org/2000/svg";
    svg.replaceChildren();
    lines.forEach((l) => {
      const a = root.querySelector(`.rm-bar[data-id="${l.from}"]`);
      const b = root.querySelector(`.rm-bar[data-id="${l.to}"]`);
      if (!a || !b) return;
      const ra = a.getBoundingClientRect(), rb = b.getBoundingClientRect();
      const x1 = ra.right - box.left, y1 = ra.top + ra.height / 2 - box.top;
      const x2 = rb.left - box.left, y2 = rb.top + rb.height / 2 - box.top;
      const mid = Math.max(x1 + 8, (x1 + x2) / 2);
      const path = document.createElementNS(ns, "path");
      path.setAttribute("d", `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`);
      if (l.conflict) path.setAttribute("class", "rm-line-conflict");
      svg.appendChild(path);
    });
  }

  function enableDrag(root) {
    const total = parseInt(root.dataset.totalDays, 10);
    root.querySelectorAll(".rm-bar[data-move-url]").forEach((bar) => {
      let startX = null, moved = false, origLeft = 0;
      // The title link would otherwise start a native link drag and cancel the pointer events.
      bar.addEventListener("dragstart", (e) => e.preventDefault());
      bar.querySelectorAll("a").forEach((a) => a.setAttribute("draggable", "false"));
      bar.addEventListener("pointerdown", (e) => {
        if (e.button !== 0) return;
        startX = e.clientX; moved = false; origLeft = parseFloat(bar.style.left);
        bar.setPointerCapture(e.pointerId);
      });
      bar.addEventListener("pointermove", (e) => {
        if (startX === null) return;
        const dx = e.clientX - startX;
        if (Math.abs(dx) > 3) { moved = true; bar.classList.add("rm-dragging"); }
        const track = bar.parentElement.getBoundingClientRect().width;
        bar.style.left = `${origLeft + (dx / track) * 100}%`;
      });
      bar.addEventListener("pointerup", async (e) => {
        if (startX === null) return;
        const dx = e.clientX - startX;
        startX = null;
        bar.classList.remove("rm-dragging");
        if (!moved) return;
        const track = bar.parentElement.getBoundingClientRect().width;
        const days = Math.round((dx / track) * total);
        if (days === 0) { bar.style.left = `${origLeft}%`; return; }
        const body = { version: parseInt(bar.dataset.version, 10) };
        if (bar.dataset.start) body.start_date = addDays(bar.dataset.start, days);
        if (bar.dataset.end) body.end_date = addDays(bar.dataset.end, days);
        const title = bar.dataset.title || bar.textContent.trim();
        bar.setAttribute("aria-busy", "true");
        try {
          const resp = await PMHub.fetch(bar.dataset.moveUrl, {
            method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
            body: JSON.stringify(body),
          });
          const out = await resp.json();
          bar.dataset.version = out.initiative.version;
          bar.dataset.start = out.initiative.start_date || "";
          bar.dataset.end = out.initiative.end_date || "";
          bar.setAttribute("data-saved", "true");
          const n = Math.abs(days);
          PMHub.announce(`“${title}” moved ${n} ${n === 1 ? "day" : "days"} ${days > 0 ? "later" : "earlier"}.`, "success");
        } catch (error) {
          bar.style.left = `${origLeft}%`;
          PMHub.announce(`“${title}” was not moved: ${error.message}`, "error");
        } finally {
          bar.removeAttribute("aria-busy");
        }
        drawLines(root);
      });
      // A drag must not also follow the title link.
      bar.addEventListener("click", (e) => { if (moved) { e.preventDefault(); moved = false; } }, true);
    });
  }

  // The public share page has no PMHub module (and no dragging): it draws the lines on load.
  const onLoad = window.PMHub ? window.PMHub.onLoad : (fn) => {
    if (document.readyState !== "loading") fn(document); else document.addEventListener("DOMContentLoaded", () => fn(document));
  };

  onLoad((fragment) => {
    const root = fragment.matches && fragment.matches(".rm-timeline") ? fragment : fragment.querySelector(".rm-timeline");
    if (!root || root.dataset.bound) return;
    root.dataset.bound = "1";
    drawLines(root);
    window.addEventListener("resize", () => drawLines(root));
    if (root.dataset.editable === "true") enableDrag(root);
  });
})();

// Timeline: dependency lines (SVG) and, for editors, dragging bars sideways to change dates.
(() => {
  const DAY = 86400000;
  const csrf = () => {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  };
  const iso = (d) => d.toISOString().slice(0, 10);
  const addDays = (s, n) => { if (!s) return s; const d = new Date(s + "T00:00:00Z"); return iso(new Date(d.getTime() + n * DAY)); };
  const say = (text) => { const el = document.querySelector(".rm-status"); if (el) el.textContent = text; };

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
        const resp = await fetch(bar.dataset.moveUrl, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
          body: JSON.stringify(body),
        });
        const out = await resp.json().catch(() => ({}));
        if (resp.ok) {
          bar.dataset.version = out.initiative.version;
          bar.dataset.start = out.initiative.start_date || "";
          bar.dataset.end = out.initiative.end_date || "";
          bar.setAttribute("data-saved", "true");
          say(`Moved by ${days} day(s): ${bar.dataset.start} – ${bar.dataset.end}.`);
        } else {
          bar.style.left = `${origLeft}%`;
          say(resp.status === 409 ? "Someone else changed this initiative; reload to see the latest." : "Could not move the initiative.");
        }
        drawLines(root);
      });
      // A drag must not also follow the title link.
      bar.addEventListener("click", (e) => { if (moved) { e.preventDefault(); moved = false; } }, true);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.querySelector(".rm-timeline");
    if (!root) return;
    drawLines(root);
    window.addEventListener("resize", () => drawLines(root));
    if (root.dataset.editable === "true") enableDrag(root);
  });
})();

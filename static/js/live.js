// Live updates and presence (docs/live.md). No library: a WebSocket, and polling when the socket
// cannot be opened (a proxy that drops upgrades). The server sends thin events (type, id, version,
// topics, sequence number); the page fetches what it may see.
//
// A page declares what it shows:
//   <section id="backlog-rows" data-live-topic="product:5">   refreshed when an event names one of
//        its topics (space-separated); optional data-live-url (else the page's own URL): the
//        answer must contain an element with the same id, which replaces this one
//   <li data-live-item="story:12">                            briefly highlighted when story 12 changed
//   <form data-live-object="story:12" data-live-version="7">  "Someone else saved this ..." when a newer
//        version of story 12 is saved in another tab
//   <div data-presence-topic="story:12">                      filled with who else is viewing
// Every event is also dispatched on document as "pmhub:live" (detail: the event) for page scripts.
(function () {
  "use strict";
  const body = document.body;
  const workspace = parseInt(body.dataset.liveWs || "", 10);
  if (!workspace || !window.PMHub || !window.WebSocket && !window.fetch) return;

  const REFRESH_DELAY_MS = 120;   // events of one save (story.updated + story.moved) refresh once
  const PING_MS = 20000;           // presence heartbeat; the server forgets a viewer after 60 s
  const POLL_MS = 2000;
  const POLL_HIDDEN_MS = 10000;
  const SOCKET_RETRY_WHILE_POLLING_MS = 30000;

  let seq = parseInt(body.dataset.liveSeq || "0", 10) || 0;
  let socket = null;
  let opened = false;        // a socket of this page was open at least once
  let failures = 0;          // consecutive sockets that closed without opening
  let stopped = false;       // refused or revoked: nothing more to hear
  let pollTimer = null;
  let pingTimer = null;
  let retryTimer = null;
  let subscribedSeq = 0;
  let me = null;

  const hasLivePage = () => document.querySelector(
    "[data-live-topic], [data-presence-topic], [data-live-object]:not([data-live-object=''])");
  if (!hasLivePage()) return;

  // --- the discreet status line -------------------------------------------------------------------
  let statusEl = null;
  function status(text, kind) {
    if (!statusEl) {
      statusEl = document.createElement("p");
      statusEl.className = "live-status";
      statusEl.setAttribute("role", "status");
      statusEl.setAttribute("data-live-status", "");
      body.append(statusEl);
    }
    statusEl.textContent = text || "";
    statusEl.hidden = !text;
    statusEl.dataset.state = kind || "";
  }

  // --- regions ------------------------------------------------------------------------------------
  const pending = new Map();  // region id -> {topics:Set of items to highlight, timer}
  function topicsOf(el, attr) { return (el.getAttribute(attr) || "").split(/\s+/).filter(Boolean); }

  function busy(region) {
    const active = document.activeElement;
    if (active && region.contains(active) && active.matches("input, textarea, select, [contenteditable]")) return true;
    return !!region.querySelector(".sortable-chosen, .sortable-drag, .dragging, [data-live-hold]");
  }

  function schedule(region, items) {
    if (!region.id) return;
    const entry = pending.get(region.id) || { items: new Set(), timer: null };
    items.forEach((i) => entry.items.add(i));
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => refresh(region.id), REFRESH_DELAY_MS);
    pending.set(region.id, entry);
  }

  async function refresh(id) {
    const region = document.getElementById(id);
    const entry = pending.get(id);
    if (!region || !entry) { pending.delete(id); return; }
    if (busy(region)) {
      // Never pull the page from under someone typing or dragging: refresh when they are done.
      const again = () => { region.removeEventListener("focusout", again); setTimeout(() => refresh(id), 300); };
      region.addEventListener("focusout", again);
      document.addEventListener("pointerup", again, { once: true });
      return;
    }
    pending.delete(id);
    const url = region.dataset.liveUrl || window.location.href;
    const answer = await load(url);
    if (answer.error) {
      status(answer.error, "error");
      return;
    }
    // The answer is shared by every refresh of this burst (load): each takes a copy of its region,
    // so a second refresh of the same region does not find the first one's nodes moved away.
    const shared = answer.doc.getElementById(id);
    const current = document.getElementById(id);
    if (!shared || !current) return;
    const fresh = shared.cloneNode(true);
    // The region's element stays (page scripts hold it: drag and drop, keyboard handlers); its
    // content is replaced, and the boxes the person ticked stay ticked (not a box that saves itself,
    // an acceptance criterion: the server's state is the truth), and open <details> stay open.
    const ticked = Array.from(current.querySelectorAll("input[type=checkbox]:checked:not([data-autosubmit])")).map(boxKey);
    const opened = Array.from(current.querySelectorAll("details[id][open]")).map((d) => d.id);
    current.replaceChildren(...Array.from(fresh.childNodes));
    opened.forEach((openId) => { const d = document.getElementById(openId); if (d && current.contains(d)) d.open = true; });
    ticked.forEach((key) => current.querySelectorAll("input[type=checkbox]:not([data-autosubmit])").forEach((box) => {
      if (boxKey(box) === key) box.checked = true;
    }));
    if (ticked.length) current.dispatchEvent(new Event("change", { bubbles: true }));
    if (window.htmx) htmx.process(current);
    // Page scripts (charts, menus) bind through PMHub.onLoad, which listens to htmx:load.
    current.dispatchEvent(new CustomEvent("htmx:load", { bubbles: true, detail: { elt: current } }));
    current.dispatchEvent(new CustomEvent("pmhub:live-refreshed", { bubbles: true }));
    let flashed = false;
    entry.items.forEach((item) => {
      current.querySelectorAll('[data-live-item="' + CSS.escape(item) + '"]').forEach((el) => { flash(el); flashed = true; });
    });
    if (!flashed) {
      if (getComputedStyle(current).display === "contents") Array.from(current.children).forEach(flash);
      else flash(current);
    }
    lastPresence.forEach((people, topic) => renderPresence(topic, people));
  }

  // Regions of one page refreshed by the same burst share one request.
  const inflight = new Map();
  function load(url) {
    if (!inflight.has(url)) {
      inflight.set(url, (async () => {
        let response;
        try {
          response = await fetch(url, { credentials: "same-origin", headers: { "X-PMHub-Tab": PMHub.tab, "X-PMHub-Live": "1" } });
        } catch (e) {
          return { error: "Live updates: the server could not be reached." };
        }
        if (response.status === 404) {
          return { error: "Something on this page was removed by someone else. Reload to see the current state." };
        }
        if (!response.ok || response.redirected && /\/accounts\/login\//.test(response.url)) {
          return { error: "Live updates stopped: reload the page." };
        }
        return { doc: new DOMParser().parseFromString(await response.text(), "text/html") };
      })().finally(() => setTimeout(() => inflight.delete(url), 0)));
    }
    return inflight.get(url);
  }

  function boxKey(box) { return box.id || box.name + "=" + box.value; }

  function flash(el) {
    el.classList.remove("live-flash");
    void el.offsetWidth;  // restart the animation
    el.classList.add("live-flash");
    setTimeout(() => el.classList.remove("live-flash"), 2200);
  }

  function refreshAll() {
    document.querySelectorAll("[data-live-topic]").forEach((region) => schedule(region, []));
  }

  // --- forms another person just saved -------------------------------------------------------------
  // The object an event is about: "story:12" for story.updated, "risk:4" for governance.risk.updated.
  function objectOf(ev) {
    const parts = (ev.type || "").split(".");
    return (parts.length >= 2 ? parts[parts.length - 2] : parts[0]) + ":" + ev.id;
  }

  // A form names its object and the version it read: on the form (data-live-object and
  // data-live-version) or on its version field (templates/_version.html).
  function versionedForms() {
    const found = [];
    document.querySelectorAll("form[data-live-object]").forEach((form) => {
      found.push({ form, object: form.dataset.liveObject, version: form.dataset.liveVersion });
    });
    document.querySelectorAll("form input[name=version][data-live-object]").forEach((input) => {
      if (input.dataset.liveObject) found.push({ form: input.form, object: input.dataset.liveObject, version: input.value });
    });
    return found;
  }

  function staleForms(ev) {
    if (ev.version == null || ev.id == null) return;
    const object = objectOf(ev);
    versionedForms().forEach(({ form, object: mineObject, version }) => {
      if (!form || mineObject !== object) return;
      const mine = parseInt(version || "", 10);
      if (!isNaN(mine) && ev.version <= mine) return;
      if (form.querySelector("[data-live-stale]")) return;
      const note = document.createElement("p");
      note.className = "live-stale";
      note.setAttribute("role", "alert");
      note.setAttribute("data-live-stale", "");
      note.append("Someone else saved this a moment ago — reload before saving. ");
      const link = document.createElement("a");
      link.href = window.location.href;
      link.textContent = "Reload";
      note.append(link);
      form.prepend(note);
    });
  }

  // --- events -----------------------------------------------------------------------------------
  function apply(ev) {
    if (typeof ev.seq !== "number" || ev.seq <= seq) return;  // seen (a catch-up overlapping the live feed)
    seq = ev.seq;
    document.dispatchEvent(new CustomEvent("pmhub:live", { detail: ev }));
    const topics = ev.topics || [];
    const items = topics.filter((t) => !t.startsWith("product:"));
    document.querySelectorAll("[data-live-topic]").forEach((region) => {
      if (topicsOf(region, "data-live-topic").some((t) => topics.includes(t))) schedule(region, items);
    });
    staleForms(ev);
  }

  // --- presence -----------------------------------------------------------------------------------
  function presenceTopic() {
    const el = document.querySelector("[data-presence-topic]");
    return el ? el.dataset.presenceTopic : null;
  }
  const lastPresence = new Map();
  function renderPresence(topic, people) {
    lastPresence.set(topic, people);
    const el = document.querySelector('[data-presence-topic="' + CSS.escape(topic) + '"]');
    if (!el) return;
    const others = people.filter((p) => p.id !== me);
    el.replaceChildren();
    el.hidden = !others.length;
    if (!others.length) return;
    const label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = "Also viewing: " + others.map((p) => p.name).join(", ");
    el.append(label);
    others.slice(0, 5).forEach((p) => {
      const face = document.createElement("span");
      face.className = "presence-face";
      face.title = p.name;
      face.setAttribute("aria-hidden", "true");
      face.textContent = p.initials;
      face.dataset.userId = p.id;
      el.append(face);
    });
    if (others.length > 5) {
      const more = document.createElement("span");
      more.className = "presence-face presence-more";
      more.setAttribute("aria-hidden", "true");
      more.textContent = "+" + (others.length - 5);
      el.append(more);
    }
  }

  // --- the socket ---------------------------------------------------------------------------------
  function socketUrl() {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/live/";
  }

  function connect() {
    if (stopped) return;
    clearTimeout(retryTimer);
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (e) {
      fallBack();
      return;
    }
    socket = ws;
    let thisOpened = false;
    ws.onopen = () => {
      thisOpened = true;
      opened = true;
      failures = 0;
      stopPolling();
      status("");
      body.dataset.liveState = "socket";
      ws.send(JSON.stringify({ op: "subscribe", workspace, since: seq, tab: PMHub.tab }));
      clearInterval(pingTimer);
      pingTimer = setInterval(() => { if (ws.readyState === 1) ws.send('{"op":"ping"}'); }, PING_MS);
    };
    ws.onmessage = (message) => {
      let data;
      try { data = JSON.parse(message.data); } catch (e) { return; }
      if (data.type === "subscribed") {
        subscribedSeq = data.seq;
        me = data.user;
        const topic = presenceTopic();
        if (topic) ws.send(JSON.stringify({ op: "presence", workspace, topic }));
      } else if (data.type === "event") {
        apply(data.event);
      } else if (data.type === "reload") {
        seq = Math.max(subscribedSeq, 0);
        refreshAll();
      } else if (data.type === "presence") {
        renderPresence(data.topic, data.people || []);
      } else if (data.type === "refused" || data.type === "revoked") {
        stop("You no longer have access to this workspace: live updates stopped.");
      }
    };
    ws.onclose = (event) => {
      clearInterval(pingTimer);
      if (socket === ws) socket = null;
      if (stopped) return;
      if (event.code === 4401 || event.code === 4403) {
        stop("Live updates stopped: reload the page.");
        return;
      }
      if (!thisOpened) failures += 1;
      if (!opened && failures >= 2 || failures >= 3) {
        fallBack();
        return;
      }
      if (opened) status("Live updates: reconnecting…", "reconnecting");
      const delay = Math.min(10000, 500 * 2 ** failures);
      retryTimer = setTimeout(connect, delay);
    };
  }

  function stop(text) {
    stopped = true;
    stopPolling();
    clearInterval(pingTimer);
    clearTimeout(retryTimer);
    if (socket) socket.close();
    body.dataset.liveState = "stopped";
    status(text, "error");
  }

  // --- polling fallback ---------------------------------------------------------------------------
  function fallBack() {
    if (stopped) return;
    if (!pollTimer) {
      body.dataset.liveState = "polling";
      // Said when the socket failed; a server without websockets polls by design, silently.
      if (!pollOnly) status("Live updates: polling", "polling");
      poll();
    }
    // Keep trying the socket now and then: the proxy may be fixed, or it was a short outage.
    clearTimeout(retryTimer);
    if (!pollOnly) retryTimer = setTimeout(() => { failures = 0; opened = false; connect(); }, SOCKET_RETRY_WHILE_POLLING_MS);
  }

  async function poll() {
    pollTimer = setTimeout(poll, document.hidden ? POLL_HIDDEN_MS : POLL_MS);
    let response;
    try {
      response = await fetch(body.dataset.livePoll + "?since=" + seq,
        { credentials: "same-origin", headers: { "X-PMHub-Tab": PMHub.tab } });
    } catch (e) {
      status("Live updates: the server could not be reached.", "error");
      return;
    }
    if (response.status === 404 || response.status === 403) {
      stop("You no longer have access to this workspace: live updates stopped.");
      return;
    }
    if (!response.ok) {
      status("Live updates: the server did not answer (" + response.status + ").", "error");
      return;
    }
    const data = await response.json();
    if (pollTimer) status(pollOnly ? "" : "Live updates: polling", "polling");
    if (data.reload) {
      seq = data.seq;
      refreshAll();
      return;
    }
    (data.events || []).forEach(apply);
    seq = Math.max(seq, data.seq);
  }

  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = null;
  }

  // A server without websockets (served over WSGI) says so: the page polls from the start.
  const pollOnly = body.dataset.liveTransport === "poll" || !window.WebSocket;
  if (pollOnly) fallBack();
  else connect();
  window.PMHubLive = { state: () => body.dataset.liveState || "connecting" };
})();

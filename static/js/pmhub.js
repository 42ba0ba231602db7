// PMHub page behaviour shared by every page. No inline scripts: the CSP allows only our files.
// One small module for the things every page script needs (window.PMHub):
//   PMHub.csrfToken()            the CSRF token (from the hx-headers on <body>)
//   PMHub.fetch(url, options)    fetch() with the CSRF header and same-origin cookies; rejects on a
//                                non-2xx answer with an Error whose message is for people
//   PMHub.announce(text, kind)   says `text` in the page's live region (screen readers hear it)
//                                instead of alert(); kind "error" makes it an assertive alert
//   PMHub.onLoad(fn)             runs fn(root) on the page and on every htmx-swapped fragment, so
//                                handlers also work on content that arrived later
//   PMHub.shortcutsEnabled()     false when the person turned single-key shortcuts off (WCAG 2.1.4)
//   PMHub.tab                    this tab's id, sent as X-PMHub-Tab with every htmx and PMHub.fetch
//                                request so live updates are not echoed to the tab that made them
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function csrfToken() {
    try {
      const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
    } catch (e) { /* fall through to the cookie */ }
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function region() {
    let el = document.querySelector("[data-announcer]");
    if (!el) {
      el = document.createElement("div");
      el.className = "messages";
      el.setAttribute("role", "status");
      el.setAttribute("aria-live", "polite");
      el.setAttribute("data-announcer", "");
      (document.querySelector("main") || document.body).prepend(el);
    }
    return el;
  }

  // Confirmations are toasts: said in the live region, gone after a few seconds (errors stay until
  // closed, so nobody misses one). Hovering or focusing a toast keeps it.
  const TOAST_MS = 6000;
  function dismissLater(p) {
    if (p.classList.contains("message-error") || p.dataset.timed) return;
    p.dataset.timed = "1";
    let timer = setTimeout(() => p.remove(), TOAST_MS);
    const hold = () => clearTimeout(timer);
    const release = () => { clearTimeout(timer); timer = setTimeout(() => p.remove(), TOAST_MS); };
    p.addEventListener("mouseenter", hold);
    p.addEventListener("mouseleave", release);
    p.addEventListener("focusin", hold);
    p.addEventListener("focusout", release);
  }
  function closeButton(p) {
    if (p.querySelector(".message-close")) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "message-close link-button";
    button.setAttribute("aria-label", "Close message");
    button.textContent = "×";
    button.addEventListener("click", () => p.remove());
    p.append(button);
  }

  function announce(text, kind) {
    const el = region();
    const p = document.createElement("p");
    p.className = "message message-" + (kind || "info");
    if (kind === "error") p.setAttribute("role", "alert");
    p.textContent = text;
    closeButton(p);
    el.replaceChildren(p);
    dismissLater(p);
  }

  // A random id per page load (static/js/live.js, pmhub/live.py): letters, digits, '-' and '_'.
  const tab = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
    : Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  document.addEventListener("htmx:configRequest", (event) => { event.detail.headers["X-PMHub-Tab"] = tab; });

  async function pmFetch(url, options) {
    const opts = Object.assign({ credentials: "same-origin" }, options || {});
    opts.headers = Object.assign({ "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch", "X-PMHub-Tab": tab },
      opts.headers || {});
    let response;
    try {
      response = await fetch(url, opts);
    } catch (e) {
      throw new Error("The server could not be reached. Check your connection and try again.");
    }
    if (!response.ok) {
      let message = "That did not work (" + response.status + "). Reload the page and try again.";
      if (response.status === 409) message = "Someone else changed this in the meantime. Reload to see their change.";
      if (response.status === 403) message = "Your role does not allow this.";
      try {
        const body = await response.clone().json();
        if (body && (body.detail || body.message)) message = body.detail || body.message;
      } catch (e) { /* not JSON: keep the sentence above */ }
      const error = new Error(message);
      error.response = response;
      throw error;
    }
    return response;
  }

  // Each loader runs once on the page (now if the document is parsed, else at DOMContentLoaded),
  // then once per htmx-swapped fragment.
  const loaders = [];
  let ready = document.readyState !== "loading";
  function onLoad(fn) {
    loaders.push(fn);
    if (ready) fn(document);
  }
  document.addEventListener("DOMContentLoaded", () => {
    if (ready) return;
    ready = true;
    loaders.forEach((fn) => fn(document));
  });
  document.addEventListener("htmx:load", (event) => {
    if (event.target === document.body) return;  // the first load is DOMContentLoaded's
    loaders.forEach((fn) => fn(event.target));
  });

  const SHORTCUTS_KEY = "pmhub.shortcuts";
  function shortcutsEnabled() {
    try { return localStorage.getItem(SHORTCUTS_KEY) !== "off"; } catch (e) { return true; }
  }
  function setShortcuts(on) {
    try { localStorage.setItem(SHORTCUTS_KEY, on ? "on" : "off"); } catch (e) { /* private mode */ }
  }

  // Messages of the server page (Django messages) become toasts too.
  onLoad((root) => {
    if (root !== document) return;
    document.querySelectorAll("[data-announcer] .message").forEach((p) => { closeButton(p); dismissLater(p); });
  });
  // An htmx save's messages arrive in an HX-Trigger header (pmhub.middleware.HtmxMessagesMiddleware).
  document.addEventListener("pmhub:messages", (event) => {
    const list = (event.detail && event.detail.messages) || [];
    list.forEach((m) => announce(m.text, m.level === "error" ? "error" : m.level));
  });

  // htmx failures are announced, not swallowed.
  document.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    announce(status === 403 ? "Your role does not allow this." : "That did not work (" + status + "). Reload the page and try again.", "error");
  });
  document.addEventListener("htmx:sendError", () => announce("The server could not be reached. Check your connection and try again.", "error"));

  window.PMHub = { csrfToken, fetch: pmFetch, announce, onLoad, shortcutsEnabled, setShortcuts, tab };

  onLoad((root) => {
    // Copy buttons: <button data-copy="#id">.
    root.querySelectorAll("[data-copy]").forEach((button) => {
      if (button.dataset.bound) return;
      button.dataset.bound = "1";
      button.addEventListener("click", () => {
        const target = document.querySelector(button.dataset.copy);
        if (target && navigator.clipboard) navigator.clipboard.writeText(target.textContent.trim());
        button.textContent = "Copied";
        announce("Copied to the clipboard.");
      });
    });
    // Confirm dangerous forms: <form data-confirm="Delete this?">.
    root.querySelectorAll("form[data-confirm]").forEach((form) => {
      if (form.dataset.bound) return;
      form.dataset.bound = "1";
      form.addEventListener("submit", (event) => {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
    // A searchable check list: <input data-check-filter="#list-id"> hides the options that do not match.
    root.querySelectorAll("[data-check-filter]").forEach((input) => {
      if (input.dataset.bound) return;
      input.dataset.bound = "1";
      const list = document.querySelector(input.dataset.checkFilter);
      if (!list) return;
      input.setAttribute("aria-controls", list.id);
      input.addEventListener("input", () => {
        const q = input.value.trim().toLowerCase();
        let shown = 0;
        list.querySelectorAll("label").forEach((label) => {
          label.hidden = q !== "" && !label.textContent.toLowerCase().includes(q);
          if (!label.hidden) shown += 1;
        });
        input.setAttribute("aria-description", shown === 1 ? "1 option shown" : shown + " options shown");
      });
      // Enter in the filter box narrows the list; it must not send the form half-filled.
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          const first = list.querySelector("label:not([hidden]) input");
          if (first) first.focus();
        }
      });
    });
    // Single-key shortcuts switch: <input type="checkbox" data-shortcuts-toggle>.
    root.querySelectorAll("[data-shortcuts-toggle]").forEach((box) => {
      if (box.dataset.bound) return;
      box.dataset.bound = "1";
      box.checked = shortcutsEnabled();
      box.addEventListener("change", () => {
        setShortcuts(box.checked);
        announce(box.checked ? "Keyboard shortcuts are on." : "Keyboard shortcuts are off.");
      });
    });
  });

  // The current section of the product menu stays in view when its row scrolls sideways (phones).
  onLoad((root) => {
    if (root !== document) return;
    const current = document.querySelector(".product-sections .is-current");
    if (current && current.parentElement.parentElement.scrollWidth > current.parentElement.parentElement.clientWidth) {
      current.parentElement.parentElement.scrollLeft = current.offsetLeft - 16;
    }
  });

  // The narrow-screen menu: a button that opens and closes the header's links.
  onLoad((root) => {
    if (root !== document) return;
    const toggle = document.querySelector("[data-nav-toggle]");
    const menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (!menu) return;
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("is-open", open);
    });
  });
  // Search: the header box and Ctrl/Cmd+K open the palette (a <dialog> with a combobox and a
  // listbox of results fetched as you type); arrows move, Enter opens, Esc closes.
  onLoad((root) => {
    if (root !== document) return;
    const dialog = document.getElementById("search-palette");
    if (!dialog) return;
    const input = dialog.querySelector("[role=combobox]");
    const list = dialog.querySelector("[role=listbox]");
    const form = dialog.querySelector("form");
    const source = dialog.getAttribute("data-source");
    const status = dialog.querySelector("[data-search-status]");
    let active = -1;
    let timer = null;
    let seq = 0;

    function options() { return Array.from(list.querySelectorAll("[role=option]")); }
    function setActive(index) {
      const opts = options();
      active = opts.length ? (index + opts.length) % opts.length : -1;
      opts.forEach((o, i) => o.setAttribute("aria-selected", String(i === active)));
      if (active >= 0) {
        input.setAttribute("aria-activedescendant", opts[active].id);
        opts[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    async function refresh() {
      const q = input.value.trim();
      const mine = ++seq;
      if (!q) {
        list.replaceChildren();
        input.setAttribute("aria-expanded", "false");
        setActive(-1);
        return;
      }
      try {
        const response = await PMHub.fetch(source + "?palette=1&q=" + encodeURIComponent(q));
        const html = await response.text();
        if (mine !== seq) return;  // a later keystroke already asked again
        list.innerHTML = html;  // server-rendered and escaped by the template
        input.setAttribute("aria-expanded", String(options().length > 0));
        setActive(options().length > 1 ? 0 : -1);
        const found = list.querySelectorAll("[role=option]:not(.search-all)").length;
        // Said inside the dialog (a modal hides the page's own live region from screen readers).
        status.textContent = found ? found + (found === 1 ? " result." : " results.") : "No results.";
      } catch (e) {
        PMHub.announce(e.message, "error");
      }
    }
    function open(text) {
      if (!dialog.open) dialog.showModal();
      if (typeof text === "string") input.value = text;
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
      refresh();
    }
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 150);
    });
    input.addEventListener("keydown", (event) => {
      // Esc closes at once (a search input would first clear itself and keep the dialog open).
      if (event.key === "Escape") { event.preventDefault(); dialog.close(); }
      else if (event.key === "ArrowDown") { event.preventDefault(); setActive(active + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); setActive(active - 1); }
      else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        window.location.assign(options()[active].getAttribute("data-url"));
      }
    });
    list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) { event.preventDefault(); window.location.assign(option.getAttribute("data-url")); }
    });
    dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });

    form.addEventListener("submit", (event) => { if (!input.value.trim()) event.preventDefault(); });

    document.querySelectorAll("[data-search-open]").forEach((box) => {
      // Not on focus: closing the dialog gives focus back to the box, which must not reopen it.
      box.addEventListener("click", () => { open(box.value); box.value = ""; });
      box.addEventListener("input", () => { open(box.value); box.value = ""; });
    });
    document.addEventListener("keydown", (event) => {
      const typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
        event.preventDefault();
        open();
      } else if (event.key === "/" && !typing && !dialog.open && PMHub.shortcutsEnabled()) {
        event.preventDefault();
        open();
      }
    });
  });
})();

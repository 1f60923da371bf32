// The agent inbox: three panes kept live over the websocket; every change goes through the REST API.
// Plain JavaScript on purpose: the page is server-rendered; this adds what changes while it is open.
//
// Live model: an event about a conversation never rewrites the list from the broadcast payload (that payload is
// the same for every agent, while unread state and the list's filter are per agent); instead the changed ids
// are re-checked against this page's filter (GET /api/v1/conversations/?filter=..&ids=..), debounced, and the
// items are updated in place, inserted in order, or removed. Counts refresh the same way. After a reconnect the
// browser replays what it missed (GET /api/v1/events/?since=<seq>) and re-checks what it shows.
(function () {
  "use strict";
  const root = document.querySelector(".inbox");
  if (!root) return;
  const data = JSON.parse(document.getElementById("inbox-data").textContent);
  const me = data.user_id;
  let currentId = Number(root.dataset.currentConversation || 0);
  const list = document.getElementById("conversation-list");
  let thread = document.getElementById("thread");
  const liveStatus = document.getElementById("live-status");
  // Translations come from Django's JavaScript catalogue (/settings/jsi18n/, loaded by base.html); English without it.
  const gettext = window.gettext || function (text) { return text; };
  const fmt = function (text, values) { return text.replace(/%\((\w+)\)s/g, function (_m, k) { return values[k]; }); };
  const STATUS_LABELS = { queued: gettext("Queued"), sent: gettext("Sent"), delivered: gettext("Delivered"), read: gettext("Read"), failed: gettext("Failed") };
  // Events can overtake the API answer that created the message: never show an older status over a newer one.
  const STATUS_RANK = { received: 0, queued: 0, sent: 1, delivered: 2, read: 3, failed: 4 };
  const CONVERSATION_STATUS = { open: gettext("Open"), pending: gettext("Pending"), snoozed: gettext("Snoozed"), resolved: gettext("Resolved") };
  const PRIORITY = { low: gettext("Low"), medium: gettext("Medium"), high: gettext("High"), urgent: gettext("Urgent") };
  const KIND = { sandbox: gettext("Sandbox"), whatsapp: "WhatsApp", messenger: "Messenger", tiktok: "TikTok" };
  const state = { filter: data.filter || {}, nextCursor: data.next_cursor, seq: data.seq || 0, selected: new Set() };

  // --- small helpers ---------------------------------------------------------------------------------------
  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function api(method, url, body) {
    const options = { method: method, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    const payload = response.status === 204 ? {} : await response.json().catch(function () { return {}; });
    return { ok: response.ok, status: response.status, data: payload };
  }

  function errorText(payload, fallback) {
    const detail = payload.detail || payload.body || payload.filter || payload.name || payload.short_code;
    if (!detail) return fallback;
    return Array.isArray(detail) ? detail.join(" ") : String(detail);
  }

  function show(node, text) {
    if (!node) return;
    node.textContent = text || "";
    node.hidden = !text;
  }

  function debounce(fn, wait) {
    let timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, wait);
    };
  }

  function timeLabel(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function announce(text) { liveStatus.textContent = text; }

  function listQuery() { return "?filter=" + encodeURIComponent(JSON.stringify(state.filter)); }

  // --- the thread ------------------------------------------------------------------------------------------
  function renderMessage(message) {
    const item = el("li", { class: "message " + message.direction, "data-message-id": message.id,
      "data-status": message.status });
    item.appendChild(el("div", { class: "bubble" }, message.body || "[" + message.kind + "]"));
    const meta = el("div", { class: "meta" });
    if (message.direction === "outbound") {
      if (message.sender_name) meta.appendChild(document.createTextNode(message.sender_name + " · "));
      meta.appendChild(el("span", { class: "status status-" + message.status, "data-status": "" },
        STATUS_LABELS[message.status] || message.status));
      if (message.error_reason) meta.appendChild(el("span", { class: "error-reason" }, " " + message.error_reason));
      meta.appendChild(document.createTextNode(" "));
    }
    meta.appendChild(el("time", { datetime: message.created_at }, timeLabel(message.created_at)));
    item.appendChild(meta);
    return item;
  }

  function appendToThread(node) {
    thread.appendChild(node);
    node.scrollIntoView({ block: "end" });
  }

  function upsertMessage(message) {
    if (!thread || message.conversation_id !== currentId) return;
    const existing = thread.querySelector('[data-message-id="' + message.id + '"]');
    if (existing && STATUS_RANK[existing.dataset.status] > STATUS_RANK[message.status]) return;
    const rendered = renderMessage(message);
    if (existing) existing.replaceWith(rendered);
    else appendToThread(rendered);
  }

  function upsertNote(note) {
    if (!thread || note.conversation_id !== currentId) return;
    if (thread.querySelector('[data-note-id="' + note.id + '"]')) return;
    const item = el("li", { class: "note", "data-note-id": note.id });
    const bubble = el("div", { class: "bubble" });
    bubble.appendChild(el("span", { class: "note-tag" }, gettext("Private note")));
    bubble.appendChild(document.createTextNode(" " + note.body));
    item.appendChild(bubble);
    const meta = el("div", { class: "meta" }, (note.author_name || gettext("Someone")) + " · ");
    meta.appendChild(el("time", { datetime: note.created_at }, timeLabel(note.created_at)));
    item.appendChild(meta);
    appendToThread(item);
  }

  function lastMessageId() {
    if (!thread) return 0;
    const messages = thread.querySelectorAll("li.message");
    return messages.length ? Number(messages[messages.length - 1].dataset.messageId) : 0;
  }

  // --- the list --------------------------------------------------------------------------------------------
  function labelChip(label, tag) {
    const chip = el(tag || "span", { class: "label-chip", style: "--label-colour: " + label.colour }, label.name);
    chip.dataset.labelId = label.id;
    return chip;
  }

  function renderConversation(c) {
    const item = el("li", { class: "conversation", "data-conversation-id": c.id, "data-last": c.last_message_at });
    if (c.id === currentId) item.classList.add("current");
    const box = el("input", { type: "checkbox", class: "select", value: c.id,
      "aria-label": fmt(gettext("Select conversation with %(name)s"), { name: c.contact_name }) });
    box.checked = state.selected.has(c.id);
    item.appendChild(box);
    const link = el("a", { href: "/inbox/c/" + c.id + "/" + listQuery() });
    if (c.id === currentId) link.setAttribute("aria-current", "page");
    link.appendChild(el("span", { class: "channel-badge channel-" + c.channel_kind }, KIND[c.channel_kind] || c.channel_kind));
    link.appendChild(el("span", { class: "name" }, c.contact_name));
    const unreadCount = c.id === currentId ? 0 : c.unread_count;
    const unread = el("span", { class: "unread" }, String(unreadCount));
    unread.hidden = !unreadCount;
    link.appendChild(unread);
    link.appendChild(el("span", { class: "preview" }, (c.preview || "").slice(0, 80)));
    const meta = el("span", { class: "item-meta" });
    if (c.status !== "open") meta.appendChild(el("span", { class: "status-chip status-chip-" + c.status }, CONVERSATION_STATUS[c.status]));
    if (c.priority && c.priority !== "none") meta.appendChild(el("span", { class: "priority priority-" + c.priority }, PRIORITY[c.priority]));
    if (c.assignee_id) {
      const member = data.directory.members.find(function (m) { return m.id === c.assignee_id; });
      meta.appendChild(el("span", { class: "assignee" }, "@" + (member ? member.username : c.assignee_name || "agent")));
    }
    (c.labels || []).forEach(function (label) { meta.appendChild(labelChip(label)); });
    link.appendChild(meta);
    item.appendChild(link);
    return item;
  }

  function placeItem(item, moveAllowed) {
    const existing = list.querySelector('[data-conversation-id="' + item.dataset.conversationId + '"]');
    if (existing && existing.dataset.last === item.dataset.last) {
      existing.replaceWith(item); // same place: update in place, no jump
      return;
    }
    if (existing) existing.remove();
    if (!moveAllowed && !existing) return;
    const when = new Date(item.dataset.last).getTime();
    const later = Array.from(list.children).find(function (other) {
      const otherWhen = new Date(other.dataset.last).getTime();
      return otherWhen < when || (otherWhen === when && Number(other.dataset.conversationId) < Number(item.dataset.conversationId));
    });
    if (later) list.insertBefore(item, later);
    else if (!state.nextCursor) list.appendChild(item); // older than everything shown: only if nothing is unloaded
  }

  function updateEmpty() {
    document.getElementById("empty-list").hidden = list.children.length > 0;
  }

  const pendingIds = new Set();
  const recheck = debounce(async function () {
    const ids = Array.from(pendingIds);
    pendingIds.clear();
    if (!ids.length) return;
    const mine = generation;
    const response = await api("GET", "/api/v1/conversations/" + listQuery() + "&ids=" + ids.join(","));
    if (!response.ok || mine !== generation) return;
    const matching = new Set();
    response.data.results.forEach(function (c) {
      matching.add(c.id);
      placeItem(renderConversation(c), true);
    });
    ids.forEach(function (id) {
      if (matching.has(id)) return;
      const gone = list.querySelector('[data-conversation-id="' + id + '"]');
      if (gone) gone.remove();
    });
    updateEmpty();
  }, 250);

  function conversationChanged(id) {
    pendingIds.add(id);
    recheck();
    refreshCounts();
  }

  // Each filter change starts a new generation; answers to requests of an older one are dropped (they can
  // arrive out of order when the agent changes two filters quickly).
  let generation = 0;

  async function reloadList() {
    const mine = ++generation;
    const response = await api("GET", "/api/v1/conversations/" + listQuery());
    if (mine !== generation) return;
    if (!response.ok) {
      show(document.getElementById("filter-error"), errorText(response.data, gettext("This filter cannot be used.")));
      return;
    }
    show(document.getElementById("filter-error"), "");
    list.replaceChildren.apply(list, response.data.results.map(renderConversation));
    state.nextCursor = response.data.next_cursor;
    document.getElementById("load-more").hidden = !state.nextCursor;
    updateEmpty();
  }

  async function loadMore() {
    if (!state.nextCursor) return;
    const mine = generation;
    const response = await api("GET", "/api/v1/conversations/" + listQuery() + "&cursor=" + encodeURIComponent(state.nextCursor));
    if (!response.ok || mine !== generation) return;
    response.data.results.forEach(function (c) {
      if (!list.querySelector('[data-conversation-id="' + c.id + '"]')) list.appendChild(renderConversation(c));
    });
    state.nextCursor = response.data.next_cursor;
    document.getElementById("load-more").hidden = !state.nextCursor;
  }
  document.getElementById("load-more").addEventListener("click", loadMore);

  // --- counts in the views sidebar -------------------------------------------------------------------------
  const refreshCounts = debounce(async function () {
    const response = await api("GET", "/api/v1/views/counts/");
    if (!response.ok) return;
    for (const [key, count] of Object.entries(response.data.counts)) {
      const node = document.querySelector('[data-count-key="' + key + '"]');
      if (node) node.textContent = count >= response.data.cap ? (response.data.cap - 1) + "+" : String(count);
    }
  }, 800);

  // --- the filter bar and saved views ----------------------------------------------------------------------
  const bar = document.getElementById("filter-bar");
  const BAR_KEYS = ["text", "status", "assignee", "labels", "channel_kind", "unread"];

  function first(value) { return Array.isArray(value) ? value[0] : value; }

  function fillBar() {
    const f = state.filter;
    bar.elements.text.value = f.text || "";
    bar.elements.status.value = Array.isArray(f.status) && f.status.length === 1 ? f.status[0] : (typeof f.status === "string" ? f.status : "");
    bar.elements.assignee.value = f.assignee !== undefined ? String(f.assignee) : "";
    const labels = f.labels || {};
    bar.elements.label.value = labels.any && labels.any.length === 1 && Object.keys(labels).length === 1 ? String(labels.any[0]) : "";
    bar.elements.channel_kind.value = f.channel_kind ? String(first(f.channel_kind)) : "";
    bar.elements.unread.checked = f.unread === true;
    const advanced = Object.keys(f).some(function (key) { return BAR_KEYS.indexOf(key) < 0; }) ||
      (Array.isArray(f.status) && f.status.length > 1) || (f.labels && !bar.elements.label.value);
    document.getElementById("filter-advanced").hidden = !advanced;
  }

  function readBar() {
    const f = Object.assign({}, state.filter);
    BAR_KEYS.forEach(function (key) { delete f[key]; });
    const text = bar.elements.text.value.trim();
    if (text) f.text = text;
    if (bar.elements.status.value) f.status = [bar.elements.status.value];
    else if (Array.isArray(state.filter.status) && state.filter.status.length > 1) f.status = state.filter.status;
    const assignee = bar.elements.assignee.value;
    if (assignee) f.assignee = /^\d+$/.test(assignee) ? Number(assignee) : assignee;
    if (bar.elements.label.value) f.labels = { any: [Number(bar.elements.label.value)] };
    else if (state.filter.labels && !(state.filter.labels.any && state.filter.labels.any.length === 1)) f.labels = state.filter.labels;
    if (bar.elements.channel_kind.value) f.channel_kind = [bar.elements.channel_kind.value];
    if (bar.elements.unread.checked) f.unread = true;
    return f;
  }

  function applyFilter() {
    state.filter = readBar();
    history.replaceState(null, "", location.pathname + listQuery());
    document.querySelectorAll(".view-list a[aria-current]").forEach(function (a) { a.removeAttribute("aria-current"); });
    reloadList();
  }
  bar.addEventListener("change", function (event) { if (event.target.name !== "text") applyFilter(); });
  bar.elements.text.addEventListener("input", debounce(applyFilter, 350));
  bar.addEventListener("submit", function (event) { event.preventDefault(); applyFilter(); });
  fillBar();

  const saveView = document.getElementById("save-view");
  saveView.addEventListener("submit", async function (event) {
    event.preventDefault();
    const team = saveView.elements.team.value;
    const response = await api("POST", "/api/v1/views/", {
      name: saveView.elements.name.value, filters: state.filter, shared_with_team_id: team ? Number(team) : null,
    });
    const error = document.getElementById("save-view-error");
    if (!response.ok) { show(error, errorText(response.data, gettext("The view could not be saved."))); return; }
    show(error, "");
    const view = response.data;
    const empty = document.getElementById("no-saved-views");
    if (empty) empty.remove();
    const link = el("a", { href: "?view=" + view.id, "data-view-key": "view-" + view.id, "aria-current": "page" });
    link.appendChild(el("span", {}, view.name));
    link.appendChild(document.createTextNode(" "));
    link.appendChild(el("span", { class: "count", "data-count-key": "view-" + view.id }, "…"));
    document.querySelectorAll(".view-list a[aria-current]").forEach(function (a) { a.removeAttribute("aria-current"); });
    const item = el("li");
    item.appendChild(link);
    document.getElementById("saved-views").appendChild(item);
    saveView.reset();
    announce(fmt(gettext("View %(name)s saved"), { name: view.name }));
    refreshCounts();
  });

  // --- bulk selection --------------------------------------------------------------------------------------
  const bulkBar = document.getElementById("bulk-bar");
  function updateBulk() {
    bulkBar.hidden = state.selected.size === 0;
    document.getElementById("bulk-count").textContent = fmt(gettext("%(count)s selected"), { count: state.selected.size });
  }
  list.addEventListener("change", function (event) {
    if (!event.target.classList.contains("select")) return;
    const id = Number(event.target.value);
    if (event.target.checked) state.selected.add(id); else state.selected.delete(id);
    updateBulk();
  });
  document.getElementById("select-all").addEventListener("change", function (event) {
    list.querySelectorAll("input.select").forEach(function (box) {
      box.checked = event.target.checked;
      if (box.checked) state.selected.add(Number(box.value)); else state.selected.delete(Number(box.value));
    });
    updateBulk();
  });
  function clearSelection() {
    state.selected.clear();
    list.querySelectorAll("input.select").forEach(function (box) { box.checked = false; });
    document.getElementById("select-all").checked = false;
    updateBulk();
  }
  async function bulk(body) {
    const ids = Array.from(state.selected);
    const response = await api("POST", "/api/v1/conversations/bulk/", Object.assign({ ids: ids }, body));
    if (!response.ok) { announce(errorText(response.data, gettext("The change failed."))); return; }
    announce(response.data.changed + " conversations changed");
    clearSelection();
    ids.forEach(conversationChanged);
  }
  bulkBar.addEventListener("click", function (event) {
    const action = event.target.dataset && event.target.dataset.bulk;
    if (action === "resolve") bulk({ action: "status", status: "resolved" });
    if (action === "clear") clearSelection();
  });
  document.getElementById("bulk-assign").addEventListener("change", function (event) {
    const value = event.target.value;
    event.target.value = "";
    if (!value) return;
    bulk({ action: "assign", assignee_id: value === "nobody" ? null : value === "me" ? me : Number(value) });
  });
  document.getElementById("bulk-label").addEventListener("change", function (event) {
    const value = event.target.value;
    event.target.value = "";
    if (value) bulk({ action: "label", label_id: Number(value) });
  });

  // --- the open conversation's controls --------------------------------------------------------------------
  let controlsError = document.getElementById("controls-error");
  async function patchCurrent(body) {
    const response = await api("PATCH", "/api/v1/conversations/" + currentId + "/", body);
    if (!response.ok) { show(controlsError, errorText(response.data, gettext("The change failed."))); return null; }
    show(controlsError, "");
    applyCurrent(response.data);
    return response.data;
  }

  function applyCurrent(c) {
    if (!currentId || !c || c.id !== currentId) return;
    const status = document.getElementById("status-select");
    if (status && document.activeElement !== status) status.value = c.status;
    document.getElementById("snooze-control").hidden = c.status !== "snoozed";
    document.getElementById("resolve-button").hidden = c.status === "resolved";
    const assignee = document.getElementById("assignee-select");
    if (document.activeElement !== assignee) assignee.value = c.assignee_id ? String(c.assignee_id) : "";
    const team = document.getElementById("team-select");
    if (document.activeElement !== team) team.value = c.team_id ? String(c.team_id) : "";
    document.getElementById("priority-select").value = c.priority;
    if (c.labels) {
      const chips = document.getElementById("current-labels");
      chips.replaceChildren.apply(chips, c.labels.map(function (label) {
        const chip = labelChip(label, "li");
        chip.appendChild(document.createTextNode(" "));
        chip.appendChild(el("button", { type: "button", class: "link remove-label", "aria-label": fmt(gettext("Remove label %(name)s"), { name: label.name }) }, "×"));
        return chip;
      }));
    }
  }

  // Everything inside the thread and contact panes is bound here, again after each in-place switch.
  function bindPane() {
  controlsError = document.getElementById("controls-error");
  if (currentId) {
    document.getElementById("status-select").addEventListener("change", function (event) {
      const value = event.target.value;
      if (value === "snoozed") {
        document.getElementById("snooze-control").hidden = false;
        document.getElementById("snooze-until").focus();
        return;
      }
      patchCurrent({ status: value });
    });
    document.getElementById("snooze-until").addEventListener("change", function (event) {
      if (event.target.value) patchCurrent({ status: "snoozed", snoozed_until: new Date(event.target.value).toISOString() });
    });
    document.getElementById("assignee-select").addEventListener("change", function (event) {
      patchCurrent({ assignee_id: event.target.value ? Number(event.target.value) : null });
    });
    document.getElementById("team-select").addEventListener("change", function (event) {
      patchCurrent({ team_id: event.target.value ? Number(event.target.value) : null });
    });
    document.getElementById("priority-select").addEventListener("change", function (event) {
      patchCurrent({ priority: event.target.value });
    });
    document.getElementById("resolve-button").addEventListener("click", function () { patchCurrent({ status: "resolved" }); });
    document.getElementById("add-label").addEventListener("change", async function (event) {
      const labelId = event.target.value;
      event.target.value = "";
      if (!labelId) return;
      const response = await api("POST", "/api/v1/conversations/" + currentId + "/labels/", { label_id: Number(labelId) });
      if (response.ok) applyCurrent(response.data); else show(controlsError, errorText(response.data, gettext("The label could not be added.")));
    });
    document.getElementById("current-labels").addEventListener("click", async function (event) {
      if (!event.target.classList.contains("remove-label")) return;
      const labelId = event.target.closest("[data-label-id]").dataset.labelId;
      const response = await api("DELETE", "/api/v1/conversations/" + currentId + "/labels/" + labelId + "/");
      if (response.ok) applyCurrent(response.data);
    });
  }

  // --- composer: replies, canned replies, notes, mentions --------------------------------------------------
  const composer = document.getElementById("composer");
  const noteForm = document.getElementById("note-form");

  function suggestionsFor(box, input, fetchItems, choose) {
    let items = [];
    let active = -1;
    function render() {
      box.replaceChildren.apply(box, items.map(function (item, index) {
        const option = el("li", { role: "option", id: box.id + "-" + index, "aria-selected": String(index === active) }, item.label);
        option.addEventListener("mousedown", function (event) { event.preventDefault(); pick(index); });
        return option;
      }));
      box.hidden = items.length === 0;
      if (active >= 0) input.setAttribute("aria-activedescendant", box.id + "-" + active);
      else input.removeAttribute("aria-activedescendant");
    }
    function close() { items = []; active = -1; render(); }
    function pick(index) {
      const item = items[index];
      close();
      if (item) choose(item);
    }
    const refresh = debounce(async function () {
      items = await fetchItems();
      active = items.length ? 0 : -1;
      render();
    }, 120);
    input.addEventListener("input", refresh);
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    input.addEventListener("keydown", function (key) {
      if (box.hidden) return;
      if (key.key === "ArrowDown" || key.key === "ArrowUp") {
        key.preventDefault();
        active = (active + (key.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
        render();
      } else if (key.key === "Enter" || key.key === "Tab") {
        key.preventDefault();
        key.stopImmediatePropagation();
        pick(active);
      } else if (key.key === "Escape") {
        close();
      }
    });
  }

  if (composer) {
    const textarea = composer.querySelector("textarea");
    const error = document.getElementById("composer-error");
    const warning = document.getElementById("composer-warning");
    suggestionsFor(document.getElementById("canned-suggestions"), textarea, async function () {
      const match = textarea.value.match(/^\/([\w-]*)$/);
      if (!match) return [];
      const response = await api("GET", "/api/v1/canned-replies/?q=" + encodeURIComponent(match[1]));
      if (!response.ok) return [];
      return response.data.results.map(function (c) { return { label: "/" + c.short_code + " — " + c.body.slice(0, 60), canned: c }; });
    }, async function (item) {
      const response = await api("GET", "/api/v1/canned-replies/" + item.canned.id + "/render/?conversation=" + currentId);
      if (!response.ok) return;
      textarea.value = response.data.text;
      textarea.focus();
      show(warning, response.data.missing.length ? fmt(gettext("No value for %(fields)s"), { fields: response.data.missing.map(function (v) { return "{{" + v + "}}"; }).join(", ") }) + ": check the text before sending." : "");
    });
    composer.addEventListener("submit", async function (submit) {
      submit.preventDefault();
      const body = textarea.value.trim();
      if (!body) return;
      error.hidden = true;
      const response = await api("POST", "/api/v1/conversations/" + currentId + "/messages/", { body: body, after_message_id: lastMessageId() });
      if (!response.ok) {
        show(error, errorText(response.data, gettext("The reply could not be sent.")));
        return;
      }
      textarea.value = "";
      show(warning, response.data.warning || "");
      upsertMessage(response.data);
    });
    textarea.addEventListener("keydown", function (key) {
      if (key.key === "Enter" && !key.shiftKey && !key.defaultPrevented) {
        key.preventDefault();
        composer.requestSubmit();
      }
    });
    textarea.addEventListener("input", function () { presence("typing"); });
  }

  if (noteForm) {
    const noteBody = document.getElementById("note-body");
    suggestionsFor(document.getElementById("mention-suggestions"), noteBody, async function () {
      const match = noteBody.value.slice(0, noteBody.selectionStart).match(/(?:^|\s)@([\w.+-]*)$/);
      if (!match) return [];
      const prefix = match[1].toLowerCase();
      return data.directory.members
        .filter(function (m) { return m.id !== me && m.username.toLowerCase().startsWith(prefix); })
        .slice(0, 8)
        .map(function (m) { return { label: "@" + m.username + (m.name !== m.username ? " (" + m.name + ")" : ""), member: m }; });
    }, function (item) {
      const caret = noteBody.selectionStart;
      const before = noteBody.value.slice(0, caret).replace(/@([\w.+-]*)$/, "@" + item.member.username + " ");
      noteBody.value = before + noteBody.value.slice(caret);
      noteBody.focus();
      noteBody.setSelectionRange(before.length, before.length);
    });
    noteForm.addEventListener("submit", async function (submit) {
      submit.preventDefault();
      const body = noteBody.value.trim();
      if (!body) return;
      const response = await api("POST", "/api/v1/conversations/" + currentId + "/notes/", { body: body });
      const error = document.getElementById("note-error");
      if (!response.ok) { show(error, errorText(response.data, gettext("The note could not be added."))); return; }
      show(error, "");
      noteBody.value = "";
      upsertNote(response.data);
    });
    noteBody.addEventListener("input", function () { presence("typing"); });
  }

  document.querySelectorAll(".composer-tabs button").forEach(function (tab) {
    tab.addEventListener("click", function () {
      const note = tab.dataset.mode === "note";
      document.querySelectorAll(".composer-tabs button").forEach(function (other) { other.setAttribute("aria-pressed", String(other === tab)); });
      composer.hidden = note;
      noteForm.hidden = !note;
      (note ? document.getElementById("note-body") : composer.querySelector("textarea")).focus();
    });
  });

  // --- contact form: saved in the background ---------------------------------------------------------------
  const contactForm = document.getElementById("contact-form");
  if (contactForm) {
    contactForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      const response = await fetch(contactForm.action, { method: "POST", body: new FormData(contactForm), credentials: "same-origin" });
      announce(response.ok ? gettext("Contact saved.") : gettext("The contact could not be saved."));
      if (response.ok) document.querySelector(".thread-header h1").textContent = contactForm.elements.name.value || gettext("Customer");
    });
  }
  }
  bindPane();

  // --- presence: who else is viewing or typing -------------------------------------------------------------
  const others = new Map();
  let socket = null;
  let lastTyping = 0;
  function presence(stateName) {
    if (!currentId || !socket || socket.readyState !== WebSocket.OPEN) return;
    if (stateName === "typing") {
      if (Date.now() - lastTyping < 2500) return;
      lastTyping = Date.now();
    }
    socket.send(JSON.stringify({ type: "presence", conversation_id: currentId, state: stateName }));
  }
  function renderPresence() {
    const node = document.getElementById("presence");
    if (!node) return;
    const now = Date.now();
    const words = [];
    others.forEach(function (entry, userId) {
      const ttl = entry.state === "typing" ? 6000 : 45000;
      if (now - entry.at > ttl) { others.delete(userId); return; }
      words.push(fmt(entry.state === "typing" ? gettext("%(name)s is typing…") : gettext("%(name)s is viewing"), { name: entry.name }));
    });
    node.textContent = words.join(" · ");
  }
  function onPresence(payload) {
    if (payload.conversation_id !== currentId || payload.user_id === me) return;
    const known = others.has(payload.user_id);
    if (payload.state === "left") others.delete(payload.user_id);
    else others.set(payload.user_id, { name: payload.name, state: payload.state, at: Date.now() });
    // Answer a newcomer once, so they see us without waiting for our next ping.
    if (!known && payload.state !== "left") presence("viewing");
    renderPresence();
  }
  setInterval(function () { presence("viewing"); renderPresence(); }, 20000);
  window.addEventListener("pagehide", function () { presence("left"); });

  // --- mentions --------------------------------------------------------------------------------------------
  const mentions = document.getElementById("mentions");
  const mentionCount = document.getElementById("mention-count");
  function addNotification(n, prepend) {
    const item = el("li", { "data-notification-id": n.id });
    const link = el("a", { href: "/inbox/c/" + n.conversation_id + "/" + listQuery() },
      (n.kind === "mention" ? fmt(gettext("%(name)s mentioned you: "), { name: n.actor_name }) : fmt(gettext("%(name)s assigned you a conversation"), { name: n.actor_name })) + (n.excerpt || ""));
    link.addEventListener("click", function () { api("POST", "/api/v1/notifications/", { ids: [n.id] }); });
    item.appendChild(link);
    if (prepend) mentions.prepend(item); else mentions.appendChild(item);
    if (!n.read_at) {
      mentionCount.textContent = String(Number(mentionCount.textContent || 0) + 1);
      mentionCount.hidden = false;
    }
  }
  api("GET", "/api/v1/notifications/").then(function (response) {
    if (response.ok) response.data.results.filter(function (n) { return !n.read_at; }).forEach(function (n) { addNotification(n, false); });
  });

  // --- events ----------------------------------------------------------------------------------------------
  function handle(event, payload) {
    if (event === "message.received" || event === "message.sent") {
      upsertMessage(payload.message);
      conversationChanged(payload.conversation.id);
      if (event === "message.received") {
        announce(fmt(gettext("New message from %(name)s"), { name: payload.conversation.contact_name }));
        if (payload.conversation.id === currentId && !document.hidden) markRead();
        else unreadTitle.bump(payload.conversation.id);
        if (window.SwitchboardNotify && (payload.conversation.assignee_id === me || !payload.conversation.assignee_id)) {
          // Assigned to me, or unassigned in a channel I see (the websocket only carries my channels' events).
          window.SwitchboardNotify.newMessage({
            title: fmt(gettext("New message from %(name)s"), { name: payload.conversation.contact_name || gettext("Customer") }),
            body: (payload.message && payload.message.body) || "",
            url: "/inbox/c/" + payload.conversation.id + "/",
            tag: "conversation-" + payload.conversation.id,
            quiet: payload.conversation.id === currentId && !document.hidden,
          });
        }
      }
    } else if (event === "message.status_changed") {
      upsertMessage(payload.message);
    } else if (event === "conversation.opened" || event === "conversation.updated") {
      conversationChanged(payload.conversation.id);
      if (payload.conversation.id === currentId && payload.conversation.labels) applyCurrent(payload.conversation);
      else if (payload.conversation.id === currentId) api("GET", "/api/v1/conversations/" + currentId + "/").then(function (r) { if (r.ok) applyCurrent(r.data); });
    } else if (event === "note.created") {
      upsertNote(payload.note);
    } else if (event === "notification.created") {
      addNotification(payload.notification, true);
      announce(fmt(gettext("New mention from %(name)s"), { name: payload.notification.actor_name }));
    } else if (event === "presence") {
      onPresence(payload);
    }
  }

  // Each logged event is applied once, whether it came over the socket, a catch-up or a live check.
  const applied = new Set();
  function apply(incoming) {
    if (incoming.seq) {
      if (applied.has(incoming.seq)) return;
      applied.add(incoming.seq);
      state.seq = Math.max(state.seq, incoming.seq);
    }
    handle(incoming.event, incoming.payload);
  }

  async function catchUp() {
    // After a reconnect: replay the missed events, then re-check what is on screen (see the header comment).
    const response = await api("GET", "/api/v1/events/?since=" + state.seq);
    if (response.ok && !response.data.reset) {
      response.data.events.forEach(apply);
    } else if (response.ok) {
      state.seq = response.data.latest;
      reloadList();
      checkedUpTo = nextWatermark = state.seq;  // the list was re-read: the live check starts from here too
    }
    if (currentId && thread) {
      const missed = await api("GET", "/api/v1/conversations/" + currentId + "/messages/?after=" + lastMessageId());
      if (missed.ok) missed.data.results.forEach(upsertMessage);
    }
    list.querySelectorAll("li.conversation").forEach(function (item) { pendingIds.add(Number(item.dataset.conversationId)); });
    recheck();
    refreshCounts();
  }

  // --- unread count in the tab title: "(3) Inbox · Switchboard" ---------------------------------------------
  // Counted from what the page shows (my unread badges) plus messages that arrived while the tab was hidden.
  const unreadTitle = (function () {
    const baseTitle = document.title;
    const arrived = new Set();
    function shown() {
      let total = 0;
      list.querySelectorAll("li.conversation .unread").forEach(function (badge) {
        if (!badge.hidden) total += Number(badge.textContent) || 0;
      });
      return total;
    }
    function render() {
      const count = Math.max(shown(), arrived.size);
      document.title = count ? "(" + count + ") " + baseTitle : baseTitle;
    }
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) {
        if (currentId && arrived.has(currentId)) markRead();
        arrived.clear();
        setTimeout(render, 1500);  // after the list re-check has refreshed the badges
      }
    });
    setInterval(render, 3000);
    render();
    return { bump: function (id) { if (document.hidden || id !== currentId) arrived.add(id); render(); }, render: render };
  })();

  // A live check, every data.live_check_seconds while connected and visible: the channel layer can lose a
  // broadcast without telling anyone (a message stored and logged, never pushed), and a later event's sequence
  // number hides the gap, since an organization's numbers have gaps anyway. So the log is read again from a
  // watermark one check behind (events commit slightly out of id order), and what was never applied is applied.
  let checkedUpTo = state.seq;
  let nextWatermark = state.seq;
  async function liveCheck() {
    if (document.hidden || !socket || socket.readyState !== WebSocket.OPEN) return;
    const upTo = state.seq;
    const response = await api("GET", "/api/v1/events/?since=" + checkedUpTo);
    if (!response.ok) return;
    if (response.data.reset) {
      state.seq = Math.max(state.seq, response.data.latest);
      reloadList();
      checkedUpTo = nextWatermark = state.seq;
    } else {
      response.data.events.forEach(apply);
      checkedUpTo = nextWatermark;
      nextWatermark = upTo;
    }
    applied.forEach(function (seq) { if (seq <= checkedUpTo) applied.delete(seq); });
  }
  if (data.live_check_seconds) setInterval(liveCheck, data.live_check_seconds * 1000);

  let retry = 0;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/inbox/");
    socket.addEventListener("open", function () {
      document.body.dataset.live = "connected";
      if (retry > 0) catchUp();
      retry = 0;
      presence("viewing");
    });
    socket.addEventListener("message", function (message) {
      apply(JSON.parse(message.data));
    });
    socket.addEventListener("close", function () {
      document.body.dataset.live = "disconnected";
      retry += 1;
      setTimeout(connect, Math.min(10000, 500 * 2 ** retry));
    });
  }

  function markRead() {
    fetch("/api/v1/conversations/" + currentId + "/read/", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
    });
  }

  // --- in-place conversation switching: swap the thread and contact panes, keep the page and its socket ----
  function conversationIdOf(url) {
    const match = new URL(url, location.href).pathname.match(/^\/inbox\/c\/(\d+)\/$/);
    return match ? Number(match[1]) : 0;
  }

  let switching = 0;
  async function openConversation(url, push) {
    const id = conversationIdOf(url);
    if (!id) { location.href = url; return; }
    const ticket = ++switching;
    const target = new URL(url, location.href);
    let response;
    try {
      response = await fetch("/inbox/c/" + id + "/pane/" + target.search, { credentials: "same-origin" });
    } catch (_error) { location.href = url; return; }
    if (ticket !== switching) return;  // a later click won
    if (!response.ok) { location.href = url; return; }
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const newThread = doc.querySelector(".thread-pane");
    if (!newThread) { location.href = url; return; }
    presence("left");
    others.clear();
    document.querySelector(".thread-pane").replaceWith(document.adoptNode(newThread));
    const oldContact = document.querySelector(".contact-pane");
    const newContact = doc.querySelector(".contact-pane");
    if (oldContact && newContact) oldContact.replaceWith(document.adoptNode(newContact));
    else if (newContact) root.appendChild(document.adoptNode(newContact));
    else if (oldContact) oldContact.remove();
    // Scripts parsed by DOMParser never run: start the pane's own (composer window, template picker) again.
    document.querySelectorAll(".thread-pane script[src], .contact-pane script[src]").forEach(function (old) {
      const script = document.createElement("script");
      script.src = old.src;
      old.replaceWith(script);
    });
    currentId = id;
    root.dataset.currentConversation = String(id);
    root.classList.add("has-current");
    thread = document.getElementById("thread");
    list.querySelectorAll("li.conversation").forEach(function (item) {
      const isCurrent = Number(item.dataset.conversationId) === id;
      item.classList.toggle("current", isCurrent);
      const link = item.querySelector("a");
      if (isCurrent) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
    });
    bindPane();
    if (push) history.pushState({ conversation: id }, "", target.pathname + target.search);
    const title = document.querySelector(".thread-header h1");
    if (title) announce(fmt(gettext("Conversation with %(name)s"), { name: title.textContent }));
    if (thread) { const last = thread.querySelector("li:last-child"); if (last) last.scrollIntoView({ block: "end" }); }
    presence("viewing");
    conversationChanged(id);  // its unread badge is cleared by the server's mark-read
  }

  list.addEventListener("click", function (event) {
    const link = event.target.closest("li.conversation > a");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    openConversation(link.href, true);
  });
  window.addEventListener("popstate", function () {
    const id = conversationIdOf(location.href);
    if (id && id !== currentId) openConversation(location.href, false);
    else if (!id) location.reload();
  });

  // --- search results panel: conversations and messages matching what is typed in the search box -----------
  const searchBox = document.getElementById("filter-text");
  const searchPanel = document.getElementById("search-results");
  let searchItems = [];
  let searchActive = -1;
  function highlighted(text, ranges) {
    const fragment = document.createDocumentFragment();
    let at = 0;
    (ranges || []).forEach(function (range) {
      if (range[0] > at) fragment.appendChild(document.createTextNode(text.slice(at, range[0])));
      fragment.appendChild(el("mark", {}, text.slice(range[0], range[1])));
      at = range[1];
    });
    fragment.appendChild(document.createTextNode(text.slice(at)));
    return fragment;
  }
  function closeSearch() {
    if (!searchPanel) return;
    searchPanel.hidden = true;
    searchItems = [];
    searchActive = -1;
    searchBox.setAttribute("aria-expanded", "false");
    searchBox.removeAttribute("aria-activedescendant");
  }
  function markActive() {
    searchItems.forEach(function (item, index) { item.setAttribute("aria-selected", String(index === searchActive)); });
    if (searchActive >= 0) {
      searchBox.setAttribute("aria-activedescendant", searchItems[searchActive].id);
      searchItems[searchActive].scrollIntoView({ block: "nearest" });
    }
  }
  function searchOption(index, conversationId, head, body, when) {
    const option = el("li", { role: "option", id: "search-option-" + index, class: "search-hit", "aria-selected": "false", "data-conversation-id": conversationId });
    option.appendChild(head);
    if (body) option.appendChild(body);
    if (when) option.appendChild(el("time", { datetime: when }, new Date(when).toLocaleString([], { dateStyle: "short", timeStyle: "short" })));
    option.addEventListener("mousedown", function (event) { event.preventDefault(); chooseSearch(option); });
    return option;
  }
  function hitHead(kind, name) {
    const head = el("span", { class: "search-hit-head" });
    head.appendChild(el("span", { class: "channel-badge channel-" + kind }, KIND[kind] || kind));
    head.appendChild(el("strong", {}, " " + name));
    return head;
  }
  function chooseSearch(option) {
    const id = option.dataset.conversationId;
    closeSearch();
    openConversation("/inbox/c/" + id + "/" + listQuery(), true);
  }
  const runSearch = debounce(async function () {
    const query = searchBox.value.trim();
    if (query.length < 2) { closeSearch(); return; }
    const response = await api("GET", "/api/v1/search/?q=" + encodeURIComponent(query));
    if (!response.ok || searchBox.value.trim() !== query) return;
    const options = [];
    response.data.contacts.forEach(function (c) {
      const body = c.phone ? el("span", { class: "search-hit-body" }, c.phone) : null;
      options.push(searchOption(options.length, c.conversation_id, hitHead(c.channel_kind, c.contact_name), body, c.last_message_at));
    });
    response.data.messages.forEach(function (m) {
      const body = el("span", { class: "search-hit-body" });
      body.appendChild(highlighted(m.snippet || m.body, m.highlights));
      options.push(searchOption(options.length, m.conversation_id, hitHead(m.channel_kind, m.contact_name), body, m.created_at));
    });
    const groups = [];
    if (options.length) {
      groups.push.apply(groups, options);
    } else {
      groups.push(el("li", { class: "empty", role: "presentation" }, gettext("Nothing found.")));
    }
    searchPanel.replaceChildren.apply(searchPanel, groups);
    searchItems = options;
    searchActive = -1;
    searchPanel.hidden = false;
    searchBox.setAttribute("aria-expanded", "true");
  }, 250);
  if (searchBox && searchPanel) {
    searchBox.setAttribute("role", "combobox");
    searchBox.setAttribute("aria-autocomplete", "list");
    searchBox.setAttribute("aria-controls", "search-results");
    searchBox.setAttribute("aria-expanded", "false");
    searchBox.addEventListener("input", runSearch);
    searchBox.addEventListener("blur", function () { setTimeout(closeSearch, 150); });
    searchBox.addEventListener("keydown", function (key) {
      if (searchPanel.hidden || !searchItems.length) { if (key.key === "Escape") closeSearch(); return; }
      if (key.key === "ArrowDown" || key.key === "ArrowUp") {
        key.preventDefault();
        const step = key.key === "ArrowDown" ? 1 : -1;
        searchActive = (searchActive + step + searchItems.length) % searchItems.length;
        markActive();
      } else if (key.key === "Enter" && searchActive >= 0) {
        key.preventDefault();
        chooseSearch(searchItems[searchActive]);
      } else if (key.key === "Escape") {
        closeSearch();
      }
    });
  }

  // --- keyboard shortcuts: j/k next/previous, r reply, e resolve, l label ---------------------------------
  document.addEventListener("keydown", function (key) {
    if (key.ctrlKey || key.metaKey || key.altKey) return;
    const target = key.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (key.key === "j" || key.key === "k") {
      const items = Array.from(list.querySelectorAll("li.conversation"));
      if (!items.length) return;
      const index = items.findIndex(function (item) { return item.classList.contains("current"); });
      const next = key.key === "j" ? Math.min(items.length - 1, index + 1) : Math.max(0, index - 1);
      if (next !== index) openConversation(items[next].querySelector("a").href, true);
    } else if (key.key === "r" && document.getElementById("composer")) {
      key.preventDefault();
      document.getElementById("composer").querySelector("textarea").focus();
    } else if (key.key === "e" && currentId) {
      patchCurrent({ status: "resolved" });
      announce(gettext("Resolved"));
    } else if (key.key === "l" && currentId) {
      key.preventDefault();
      document.getElementById("add-label").focus();
    }
  });

  if (thread) {
    const last = thread.querySelector("li:last-child");
    if (last) last.scrollIntoView({ block: "end" });
  }
  connect();
})();

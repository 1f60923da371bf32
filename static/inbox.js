// The agent inbox: live updates over the websocket, replies through the REST API.
// Plain JavaScript on purpose: the page is server-rendered; this only adds what changes while it is open.
(function () {
  "use strict";
  const root = document.querySelector(".inbox");
  if (!root) return;
  const currentId = Number(root.dataset.currentConversation || 0);
  const statusFilter = root.dataset.statusFilter;
  const list = document.getElementById("conversation-list");
  const thread = document.getElementById("thread");
  const liveStatus = document.getElementById("live-status");
  const STATUS_LABELS = { queued: "Queued", sent: "Sent", delivered: "Delivered", read: "Read", failed: "Failed" };
  // Events can overtake the API answer that created the message: never show an older status over a newer one.
  const STATUS_RANK = { received: 0, queued: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

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

  function timeLabel(iso) {
    const date = new Date(iso);
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function renderMessage(message) {
    const item = el("li", { class: "message " + message.direction, "data-message-id": message.id,
      "data-status": message.status });
    item.appendChild(el("div", { class: "bubble" }, message.body || "[" + message.kind + "]"));
    const meta = el("div", { class: "meta" });
    if (message.direction === "outbound") {
      meta.appendChild(el("span", { class: "status status-" + message.status, "data-status": "" },
        STATUS_LABELS[message.status] || message.status));
      if (message.error_reason) meta.appendChild(el("span", { class: "error-reason" }, " " + message.error_reason));
      meta.appendChild(document.createTextNode(" "));
    }
    meta.appendChild(el("time", { datetime: message.created_at }, timeLabel(message.created_at)));
    item.appendChild(meta);
    return item;
  }

  function upsertMessage(message) {
    if (!thread || message.conversation_id !== currentId) return;
    const existing = thread.querySelector('[data-message-id="' + message.id + '"]');
    if (existing && STATUS_RANK[existing.dataset.status] > STATUS_RANK[message.status]) return;
    const rendered = renderMessage(message);
    if (existing) existing.replaceWith(rendered);
    else {
      thread.appendChild(rendered);
      rendered.scrollIntoView({ block: "end" });
    }
  }

  function upsertConversation(conversation, moveToTop) {
    if (statusFilter && conversation.status !== statusFilter) return;
    let item = list.querySelector('[data-conversation-id="' + conversation.id + '"]');
    if (!item) {
      item = el("li", { class: "conversation", "data-conversation-id": conversation.id });
      const link = el("a", { href: "/inbox/c/" + conversation.id + "/?status=" + encodeURIComponent(statusFilter) });
      link.appendChild(el("span", { class: "channel-badge channel-" + conversation.channel_kind }, conversation.channel_name));
      link.appendChild(el("span", { class: "name" }));
      link.appendChild(el("span", { class: "unread" }));
      link.appendChild(el("span", { class: "preview" }));
      item.appendChild(link);
      moveToTop = true;
    }
    item.querySelector(".name").textContent = conversation.contact_name;
    item.querySelector(".preview").textContent = conversation.preview;
    const unread = item.querySelector(".unread");
    const count = conversation.id === currentId ? 0 : conversation.unread_count;
    unread.textContent = count;
    unread.hidden = !count;
    if (conversation.id === currentId) item.classList.add("current");
    if (moveToTop) list.prepend(item);
    document.getElementById("empty-list").hidden = true;
  }

  function handle(event, payload) {
    if (event === "message.received" || event === "message.sent") {
      upsertMessage(payload.message);
      upsertConversation(payload.conversation, true);
      if (event === "message.received") {
        liveStatus.textContent = "New message from " + payload.conversation.contact_name;
        if (payload.conversation.id === currentId) markRead();
      }
    } else if (event === "message.status_changed") {
      upsertMessage(payload.message);
    } else if (event === "conversation.opened" || event === "conversation.updated") {
      upsertConversation(payload.conversation, event === "conversation.opened");
    }
  }

  async function catchUp() {
    // After a reconnect, fetch what may have been broadcast while the socket was down.
    if (!currentId || !thread) return;
    const last = thread.querySelector("li.message:last-child");
    const after = last ? last.dataset.messageId : 0;
    const response = await fetch("/api/v1/conversations/" + currentId + "/messages/?after=" + after,
      { credentials: "same-origin" });
    if (response.ok) (await response.json()).results.forEach(upsertMessage);
  }

  let retry = 0;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/inbox/");
    socket.addEventListener("open", function () {
      document.body.dataset.live = "connected";
      if (retry > 0) catchUp();
      retry = 0;
    });
    socket.addEventListener("message", function (message) {
      const data = JSON.parse(message.data);
      handle(data.event, data.payload);
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

  const composer = document.getElementById("composer");
  if (composer) {
    const textarea = composer.querySelector("textarea");
    const error = document.getElementById("composer-error");
    composer.addEventListener("submit", async function (submit) {
      submit.preventDefault();
      const body = textarea.value.trim();
      if (!body) return;
      error.hidden = true;
      const response = await fetch("/api/v1/conversations/" + currentId + "/messages/", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ body: body }),
      });
      const data = await response.json().catch(function () { return {}; });
      if (!response.ok) {
        const detail = data.body || data.detail || "The reply could not be sent.";
        error.textContent = Array.isArray(detail) ? detail.join(" ") : detail;
        error.hidden = false;
        return;
      }
      textarea.value = "";
      upsertMessage(data);
    });
    textarea.addEventListener("keydown", function (key) {
      if (key.key === "Enter" && !key.shiftKey) {
        key.preventDefault();
        composer.requestSubmit();
      }
    });
  }

  if (thread) {
    const last = thread.querySelector("li.message:last-child");
    if (last) last.scrollIntoView({ block: "end" });
  }
  connect();
})();

/* The sandbox page: who you are, where you are, what launchgate sent, and what you do about it.
 * Polls /ui/state (cheap when nothing changed) and sends every action to /ui/… which plays
 * Slack's side towards the real bot. */
(function () {
  "use strict";
  const $ = function (id) { return document.getElementById(id); };
  const store = window.localStorage;
  const app = {
    user: store.getItem("sandbox.user") || "",
    conv: store.getItem("sandbox.conv") || "",
    data: null,
    version: -1,
    convKey: "",
    homeKey: "",
    modalKey: "",
    seen: {},
    drafts: {},   // view id → what was typed into a modal taken off screen by a persona switch
    busy: 0,
  };

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function post(path, body) {
    app.busy++;
    document.body.classList.add("busy");
    return fetch("/ui/" + path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    }).then(function (r) { return r.json(); }).then(function (answer) {
      if (!answer.ok) toast(answer.error || "That did not work.");
      return answer;
    }).catch(function () {
      toast("The sandbox is not answering. Is `launchgate sandbox` still running?");
      return { ok: false };
    }).finally(function () {
      app.busy--;
      if (!app.busy) document.body.classList.remove("busy");
      refresh(true);
    });
  }

  let toastTimer = null;
  function toast(text) {
    const box = $("toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, 6000);
  }

  /* -- names for mrkdwn ------------------------------------------------------------ */
  function names() {
    const d = app.data;
    return {
      userName: function (id) {
        if (!d) return null;
        if (id === d.bot.id) return d.bot.name;
        const p = d.people.find(function (x) { return x.id === id; });
        return p ? p.real_name : null;
      },
      channelName: function (id) {
        if (!d) return null;
        const c = d.channels.find(function (x) { return x.id === id; });
        return c ? c.name : null;
      },
    };
  }

  function me() {
    return app.data.people.find(function (p) { return p.id === app.data.me; });
  }

  function formatTime(ms, withDate) {
    const tz = me().tz;
    const opts = withDate
      ? { timeZone: tz, weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" }
      : { timeZone: tz, hour: "2-digit", minute: "2-digit" };
    return new Intl.DateTimeFormat("en-GB", opts).format(new Date(ms));
  }

  function dayOf(ms) {
    return new Intl.DateTimeFormat("en-GB", { timeZone: me().tz, weekday: "long", day: "numeric", month: "long", year: "numeric" })
      .format(new Date(ms));
  }

  /* -- confirm dialogs (buttons with `confirm`) ---------------------------------------- */
  function confirmDialog(confirm) {
    return new Promise(function (resolve) {
      const back = el("div", "overlay confirm-overlay");
      const box = el("div", "dialog confirm");
      box.setAttribute("role", "alertdialog");
      box.setAttribute("aria-modal", "true");
      const title = el("h2", "dialog-title", BlockKit.plain(confirm.title) || "Are you sure?");
      title.id = "confirm-title";
      box.setAttribute("aria-labelledby", title.id);
      const text = el("div", "dialog-body");
      text.append(BlockKit.textObj(confirm.text, { names: names() }));
      const deny = el("button", "bk-button", BlockKit.plain(confirm.deny) || "Cancel");
      const ok = el("button", "bk-button " + (confirm.style || "primary"), BlockKit.plain(confirm.confirm) || "Yes");
      deny.type = ok.type = "button";
      const foot = el("div", "dialog-foot");
      foot.append(deny, ok);
      box.append(title, text, foot);
      back.append(box);
      document.body.append(back);
      const previous = document.activeElement;
      ok.focus();
      const done = function (answer) {
        back.remove();
        if (previous && previous.focus) previous.focus();
        resolve(answer);
      };
      deny.addEventListener("click", function () { done(false); });
      ok.addEventListener("click", function () { done(true); });
      back.addEventListener("keydown", function (e) {
        if (e.key === "Escape") { e.stopPropagation(); done(false); }
        if (e.key === "Tab") { e.preventDefault(); (document.activeElement === ok ? deny : ok).focus(); }
      });
    });
  }

  function blockCtx(surface, where, key) {
    return {
      surface: surface, key: key, names: names(), people: app.data.people, channels: app.data.channels,
      confirm: confirmDialog,
      onAction: function (blockId, actionId, value) {
        const body = { user: app.data.me, where: where, block_id: blockId, action_id: actionId, value: value };
        if (where.kind === "view") {
          const root = document.querySelector(".modal .modal-body");
          if (root && where.view_id === root.dataset.viewId) body.values = BlockKit.collect(root).values;
        }
        post("action", body);
      },
    };
  }

  /* -- rendering --------------------------------------------------------------------- */
  function renderPersona() {
    const select = $("persona");
    const wanted = app.data.people.map(function (p) { return p.id + p.real_name + p.title; }).join();
    if (select.dataset.key !== wanted) {
      select.textContent = "";
      app.data.people.forEach(function (p) {
        const opt = el("option", "", p.real_name + ", " + p.title);
        opt.value = p.id;
        select.append(opt);
      });
      select.dataset.key = wanted;
    }
    select.value = app.data.me;
  }

  function convButton(id, label, count, extraClass) {
    const li = el("li");
    const b = el("button", "conv" + (extraClass ? " " + extraClass : ""), label);
    b.type = "button";
    b.dataset.conv = id;
    if (id === app.data.conv) {
      b.classList.add("current");
      b.setAttribute("aria-current", "page");
    }
    const seenKey = app.data.me + ":" + id;
    if (id !== app.data.conv && count > (app.seen[seenKey] || 0)) {
      b.classList.add("unread");
      b.append(el("span", "sr-only", " (new messages)"));
    }
    li.append(b);
    return li;
  }

  function renderSidebar() {
    const d = app.data;
    app.seen[d.me + ":" + d.conv] = d.conv === d.dm.id ? d.dm.count
      : (d.channels.find(function (c) { return c.id === d.conv; }) || { count: 0 }).count;
    const unread = function (id, count) { return id !== d.conv && count > (app.seen[d.me + ":" + id] || 0); };
    const key = JSON.stringify([d.me, d.conv, d.dm, unread(d.dm.id, d.dm.count), d.channels.map(function (c) {
      return [c.id, c.name, c.archived, c.is_private, unread(c.id, c.count)];
    }), d.clock_log]);
    $("clock-now").textContent = formatTime(d.now, true) + " (" + me().tz + ")";
    $("clock-now").dateTime = new Date(d.now).toISOString();
    if (key === app.sidebarKey) return;  // unchanged: keep the DOM (and keyboard focus) as it is
    app.sidebarKey = key;
    const apps = $("apps");
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.conv : null;
    apps.textContent = "";
    apps.append(convButton("home", "🏠 launchgate · Home", 0, "home-tab"));
    apps.append(convButton(d.dm.id, "💬 launchgate · Messages", d.dm.count));
    const channels = $("channels");
    channels.textContent = "";
    d.channels.forEach(function (c) {
      channels.append(convButton(c.id, (c.is_private ? "🔒 " : "# ") + c.name + (c.archived ? " (archived)" : ""), c.count));
    });
    const log = $("clock-log");
    log.textContent = "";
    (d.clock_log || []).forEach(function (line) { log.append(el("li", "", line)); });
    if (focused) {
      const again = document.querySelector('#sidebar [data-conv="' + CSS.escape(focused) + '"]');
      if (again) again.focus();
    }
  }

  function authorOf(message, ephemeral) {
    // An ephemeral's `user` is who sees it; it is written by the app, or by Slackbot (unknown command).
    if (ephemeral) return { name: message.source === "slackbot" ? "Slackbot" : app.data.bot.name, bot: true };
    if (message.user === app.data.bot.id || message.bot_id) return { name: app.data.bot.name, bot: true };
    const p = app.data.people.find(function (x) { return x.id === message.user; });
    return { name: p ? p.real_name : message.user, bot: false };
  }

  function messageNode(message, where) {
    const who = authorOf(message, where.kind === "ephemeral");
    const row = el("article", "message" + (where.kind === "ephemeral" ? " ephemeral" : ""));
    row.dataset.ts = message.ts;
    const avatar = el("div", "avatar" + (who.bot ? " bot" : ""), who.name.slice(0, 1).toUpperCase());
    avatar.setAttribute("aria-hidden", "true");
    const body = el("div", "message-body");
    const head = el("div", "message-head");
    head.append(el("span", "author", who.name));
    if (who.bot && who.name === app.data.bot.name) head.append(el("span", "app-badge", "APP"));
    const time = el("time", "message-time", formatTime(parseFloat(message.ts) * 1000, false));
    time.dateTime = new Date(parseFloat(message.ts) * 1000).toISOString();
    head.append(time);
    if (message.edited) head.append(el("span", "edited", "(edited)"));
    if (where.kind === "ephemeral") head.append(el("span", "only-you", "Only visible to you"));
    body.append(head);
    const key = where.kind + ":" + message.ts;
    if (message.blocks && message.blocks.length) {
      body.append(BlockKit.renderBlocks(message.blocks, blockCtx("message", where, key)));
    } else {
      const text = el("div", "message-text");
      text.append(Mrkdwn.render(message.text || "", names()));
      body.append(text);
    }
    (message.attachments || []).forEach(function (a) {
      const att = el("div", "attachment");
      if (a.blocks) att.append(BlockKit.renderBlocks(a.blocks, blockCtx("message", where, key)));
      else if (a.text || a.fallback) att.append(Mrkdwn.render(a.text || a.fallback, names()));
      body.append(att);
    });
    if (where.kind === "ephemeral") {
      const dismiss = el("button", "link-button", "Dismiss");
      dismiss.type = "button";
      dismiss.addEventListener("click", function () { post("dismiss", { user: app.data.me, ts: message.ts }); });
      body.append(dismiss);
    }
    row.append(avatar, body);
    return row;
  }

  /* Redraw `container` without taking away what the person was doing: the focused control keeps
   * focus, and an open menu (overflow, select) stays open on the same entry, when a poll brings news. */
  function withFocusKept(container, draw) {
    const active = document.activeElement;
    const inside = active && container.contains(active);
    const menu = inside ? active.closest(".bk-menu") : null;
    const open = menu && !menu.querySelector(".bk-menu-list").hidden;
    const key = open ? menu.querySelector(".bk-menu-button").dataset.focusKey : inside ? active.dataset.focusKey : null;
    const entry = open && active.classList.contains("bk-menu-item") ? active.dataset.value : null;
    draw();
    const again = key ? container.querySelector('[data-focus-key="' + CSS.escape(key) + '"]') : null;
    if (!again) return;
    if (open) {
      const list = again.closest(".bk-menu").querySelector(".bk-menu-list");
      list.hidden = false;
      again.setAttribute("aria-expanded", "true");
      const item = entry !== null ? list.querySelector('[data-value="' + CSS.escape(entry) + '"]') : null;
      (item || again).focus();
    } else {
      again.focus();
    }
  }

  function renderConversation() {
    const d = app.data;
    const isHome = d.conv === "home";
    $("messages").hidden = isHome;
    $("composer").hidden = isHome;
    $("home").hidden = !isHome;
    if (isHome) {
      $("conv-title").textContent = "launchgate · Home";
      $("conv-topic").textContent = "Your launches and what you owe, as launchgate's App Home tab shows them.";
      const key = d.me + JSON.stringify(d.home);
      if (key === app.homeKey) return;
      app.homeKey = key;
      app.convKey = "";
      const home = $("home");
      withFocusKept(home, function () {
        home.textContent = "";
        if (!d.home) home.append(el("p", "empty", "Opening Home…"));
        else home.append(BlockKit.renderBlocks(d.home.blocks, blockCtx("home", { kind: "view", view_id: d.home.id }, "home")));
      });
      return;
    }
    const c = d.conversation;
    $("conv-title").textContent = c.kind === "im" ? "launchgate" : "#" + c.name;
    $("conv-topic").textContent = c.kind === "im" ? "Direct messages with the launchgate app" : (c.topic || c.purpose || "");
    $("message-box").placeholder = c.kind === "im" ? "Message launchgate, or /launch …" : "Message #" + c.name + ", or /launch …";
    const key = d.me + JSON.stringify(c);
    if (key === app.convKey) return;
    app.convKey = key;
    app.homeKey = "";
    const list = $("messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    withFocusKept(list, function () {
      list.textContent = "";
      const top = c.messages.filter(function (m) { return !m.thread_ts || m.thread_ts === m.ts; });
      let lastDay = null;
      top.forEach(function (m) {
        const day = dayOf(parseFloat(m.ts) * 1000);
        if (day !== lastDay) {
          const sep = el("div", "day-separator");
          sep.setAttribute("role", "separator");
          sep.append(el("span", "", day));
          list.append(sep);
          lastDay = day;
        }
        const node = messageNode(m, { kind: "message", channel: c.id, ts: m.ts });
        const replies = c.messages.filter(function (r) { return r.thread_ts === m.ts && r.ts !== m.ts; });
        if (replies.length) {
          const thread = el("section", "thread");
          thread.setAttribute("aria-label", replies.length + " replies");
          thread.append(el("div", "thread-count", replies.length + (replies.length === 1 ? " reply" : " replies")));
          replies.forEach(function (r) { thread.append(messageNode(r, { kind: "message", channel: c.id, ts: r.ts })); });
          node.querySelector(".message-body").append(thread);
        }
        list.append(node);
      });
      if (!top.length) list.append(el("p", "empty", c.kind === "im"
        ? "No messages yet. launchgate writes here when you owe something."
        : "No messages in #" + c.name + " yet."));
      c.ephemerals.forEach(function (e) {
        list.append(messageNode(e, { kind: "ephemeral", channel: e.channel, ts: e.ts }));
      });
    });
    if (atBottom || !list.dataset.conv || list.dataset.conv !== c.id) list.scrollTop = list.scrollHeight;
    list.dataset.conv = c.id;
  }

  function renderModal() {
    const d = app.data;
    const root = $("modal-root");
    const top = d.modals.length ? d.modals[d.modals.length - 1] : null;
    const key = top ? d.me + top.id + top.hash : "";
    if (key === app.modalKey) return;
    const old = root.querySelector(".modal-body");
    // What someone typed stays on their screen while the page shows another persona, as it would in Slack.
    if (old && (!top || old.dataset.viewId !== top.id)) app.drafts[old.dataset.viewId] = BlockKit.snapshot(old);
    const saved = old && top && old.dataset.viewId === top.id ? BlockKit.snapshot(old) : top ? app.drafts[top.id] : null;
    if (top) delete app.drafts[top.id];
    const hadFocus = root.contains(document.activeElement) ? document.activeElement.name : null;
    const switching = document.activeElement === $("persona");  // leave focus where the person is choosing
    app.modalKey = key;
    root.textContent = "";
    // The persona switcher stays usable over a modal: the modal is that person's, and stays on their screen.
    document.querySelectorAll(".topbar .workspace, .topbar .clock, .layout").forEach(function (n) { n.inert = !!top; });
    if (!top) {
      if (switching) return;
      if (app.returnFocus && document.body.contains(app.returnFocus) && !app.returnFocus.closest(".persona")) {
        app.returnFocus.focus();
      } else {
        $("message-box").focus();
      }
      app.returnFocus = null;
      return;
    }
    if (!old) app.returnFocus = document.activeElement;
    const back = el("div", "overlay");
    const form = el("form", "dialog modal");
    form.setAttribute("role", "dialog");
    form.setAttribute("aria-modal", "true");
    form.noValidate = true;
    const title = el("h2", "dialog-title", BlockKit.plain(top.title));
    title.id = "modal-title";
    form.setAttribute("aria-labelledby", title.id);
    const x = el("button", "close-x", "×");
    x.type = "button";
    x.setAttribute("aria-label", "Close");
    const head = el("div", "dialog-head");
    head.append(title, x);
    const body = el("div", "modal-body");
    body.dataset.viewId = top.id;
    const general = el("div", "bk-error modal-problem");
    general.setAttribute("role", "alert");
    general.hidden = true;
    body.append(general, BlockKit.renderBlocks(top.blocks, blockCtx("modal", { kind: "view", view_id: top.id }, top.id)));
    const foot = el("div", "dialog-foot");
    const close = el("button", "bk-button", BlockKit.plain(top.close) || (top.submit ? "Cancel" : "Close"));
    close.type = "button";
    foot.append(close);
    if (top.submit) {
      const submit = el("button", "bk-button primary", BlockKit.plain(top.submit));
      submit.type = "submit";
      foot.append(submit);
    }
    form.append(head, body, foot);
    back.append(form);
    root.append(back);
    if (saved) BlockKit.restore(body, saved);
    const closeView = function () { post("close", { user: d.me, view_id: top.id }); };
    x.addEventListener("click", closeView);
    close.addEventListener("click", closeView);
    form.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && !e.target.closest(".bk-menu-list")) { e.preventDefault(); closeView(); }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      const got = BlockKit.collect(body);
      general.hidden = true;
      if (Object.keys(got.problems).length) {
        const first = BlockKit.showErrors(body, got.problems);
        if (first) first.focus();
        return;
      }
      BlockKit.showErrors(body, {});
      post("submit", { user: d.me, view_id: top.id, values: got.values }).then(function (answer) {
        if (answer.errors && Object.keys(answer.errors).length) {
          const first = BlockKit.showErrors(body, answer.errors);
          if (first) first.focus();
        }
        if (answer.problem) {
          general.textContent = answer.problem;
          general.hidden = false;
        }
      });
    });
    const again = hadFocus && body.querySelector('[name="' + CSS.escape(hadFocus) + '"]');
    const first = again || body.querySelector("input, select, textarea, button") || form.querySelector("button[type=submit]") || close;
    if (!switching) first.focus();
  }

  function render() {
    renderPersona();
    renderSidebar();
    renderConversation();
    renderModal();
  }

  /* -- polling ------------------------------------------------------------------------ */
  let inflight = false;
  let again = false;
  function refresh(force) {
    if (inflight) { again = again || force; return; }
    inflight = true;
    const since = force ? -1 : app.version;
    const askedUser = app.user, askedConv = app.conv;
    fetch("/ui/state?user=" + encodeURIComponent(askedUser) + "&conv=" + encodeURIComponent(askedConv) + "&since=" + since)
      .then(function (r) { return r.json(); })
      .then(function (d) {
        // The person switched persona or conversation while this was on its way: an answer for the old
        // one must not take them back there; ask again for where they are now.
        if (app.user !== askedUser || app.conv !== askedConv) { again = true; return; }
        if (d.unchanged) return;
        app.data = d;
        app.version = d.version;
        app.user = d.me;
        app.conv = d.conv;
        store.setItem("sandbox.user", d.me);
        store.setItem("sandbox.conv", d.conv);
        render();
        document.body.dataset.version = d.version;
        document.body.dataset.me = d.me;  // whose workspace the page now shows (tests wait for it)
      })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () {
        inflight = false;
        if (again) { again = false; refresh(true); }
      });
  }

  function go(conv) {
    app.conv = conv;
    app.convKey = "";
    app.homeKey = "";
    store.setItem("sandbox.conv", conv);
    if (conv === "home") post("home", { user: app.user });
    else refresh(true);
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("persona").addEventListener("change", function (e) {
      app.user = e.target.value;
      app.convKey = app.homeKey = "";
      app.modalKey = null;  // redraw the modal layer for the new persona, even when it has none
      store.setItem("sandbox.user", app.user);
      if (app.conv === "home") go("home");
      else refresh(true);
    });
    document.body.addEventListener("click", function (e) {
      const target = e.target.closest("[data-conv]");
      if (target) {
        e.preventDefault();
        go(target.dataset.conv);
        if (target.classList.contains("conv") || target.classList.contains("channel-link")) $("message-box").focus();
      }
    });
    $("composer").addEventListener("submit", function (e) {
      e.preventDefault();
      const box = $("message-box");
      const text = box.value.trim();
      if (!text || !app.data) return;
      box.value = "";
      post("command", { user: app.data.me, channel: app.data.conv, text: text });
    });
    document.querySelectorAll(".clock-step").forEach(function (b) {
      b.addEventListener("click", function () {
        post("clock", { user: app.user, step: b.dataset.step }).then(function (answer) {
          if (answer.ok && answer.lines) toast(answer.lines[0]);
        });
      });
    });
    refresh(true);
    setInterval(function () { if (!document.hidden) refresh(false); }, 700);
  });
})();

/* Slack's mrkdwn, rendered into DOM nodes (never innerHTML).
 * Slack escapes exactly three characters in text: &amp; &lt; &gt;. A literal "<" therefore always
 * starts a control sequence: <@U…> user, <#C…|name> channel, <!here>, <!subteam^S…|@team>,
 * <!date^…|fallback>, <https://…|label> link. Formatting: *bold*, _italic_, ~strike~, `code`,
 * ```preformatted```, "> " quotes (escaped as "&gt; "), newlines. */
(function () {
  "use strict";

  function decode(s) {
    return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const TOKEN = new RegExp([
    "<([^<>\\n]+)>",                                   // 1 control sequence
    "`([^`\\n]+)`",                                     // 2 inline code
    "(^|[^A-Za-z0-9*])\\*(?=\\S)([^*\\n]*?\\S)\\*(?![A-Za-z0-9*])",   // 3,4 bold
    "(^|[^A-Za-z0-9_])_(?=\\S)([^_\\n]*?\\S)_(?![A-Za-z0-9_])",       // 5,6 italic
    "(^|[^A-Za-z0-9~])~(?=\\S)([^~\\n]*?\\S)~(?![A-Za-z0-9~])",       // 7,8 strike
  ].join("|"), "g");

  function control(seq, ctx) {
    const bar = seq.indexOf("|");
    const target = bar < 0 ? seq : seq.slice(0, bar);
    const label = bar < 0 ? "" : seq.slice(bar + 1);
    if (target[0] === "@") {
      const id = target.slice(1);
      const name = (ctx.userName && ctx.userName(id)) || decode(label) || id;
      const span = el("span", "mention", "@" + name);
      span.dataset.user = id;
      return span;
    }
    if (target[0] === "#") {
      const id = target.slice(1);
      const name = (ctx.channelName && ctx.channelName(id)) || decode(label) || id;
      const link = el("a", "channel-link", "#" + name);
      link.href = "#";
      link.dataset.conv = id;
      return link;
    }
    if (target[0] === "!") {
      const special = target.slice(1);
      if (/^(here|channel|everyone)$/.test(special)) return el("span", "mention broadcast", "@" + special);
      if (special.startsWith("subteam^")) return el("span", "mention", decode(label) || "@group");
      if (special.startsWith("date^")) return el("span", "date", decode(label) || special);
      return document.createTextNode(decode(label || seq));
    }
    const url = decode(target);
    const text = decode(label || target);
    if (/^(https?:|mailto:)/i.test(url)) {
      const link = el("a", "link", text);
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      return link;
    }
    return document.createTextNode(text);
  }

  function inline(text, parent, ctx) {
    const token = new RegExp(TOKEN.source, "g");  // own lastIndex: formatting nests recursively
    let last = 0;
    let m;
    while ((m = token.exec(text)) !== null) {
      if (m.index > last) parent.append(decode(text.slice(last, m.index)));
      if (m[1] !== undefined) {
        parent.append(control(m[1], ctx));
      } else if (m[2] !== undefined) {
        parent.append(el("code", "inline-code", decode(m[2])));
      } else {
        const lead = m[3] !== undefined ? m[3] : m[5] !== undefined ? m[5] : m[7];
        const inner = m[4] !== undefined ? m[4] : m[6] !== undefined ? m[6] : m[8];
        const tag = m[4] !== undefined ? "strong" : m[6] !== undefined ? "em" : "del";
        if (lead) parent.append(decode(lead));
        const node = el(tag);
        inline(inner, node, ctx);
        parent.append(node);
      }
      last = token.lastIndex;
      if (m[0].length === 0) token.lastIndex++;
    }
    if (last < text.length) parent.append(decode(text.slice(last)));
  }

  function lines(text, parent, ctx) {
    let quote = null;
    let first = true;
    for (const line of text.split("\n")) {
      const q = /^&gt;\s?(.*)$/.exec(line);
      if (q) {
        if (!quote) {
          quote = el("blockquote");
          parent.append(quote);
        } else {
          quote.append(el("br"));
        }
        inline(q[1], quote, ctx);
      } else {
        if (!first && !quote) parent.append(el("br"));
        quote = null;
        inline(line, parent, ctx);
      }
      first = false;
    }
  }

  function render(text, ctx) {
    const frag = document.createDocumentFragment();
    const parts = String(text || "").split("```");
    parts.forEach(function (part, i) {
      const isCode = i % 2 === 1 && i < parts.length - 1;
      if (isCode) {
        frag.append(el("pre", "code-block", decode(part.replace(/^\n/, ""))));
      } else {
        lines(i % 2 === 1 ? "```" + part : part.replace(/^\n/, i ? "" : "\n").replace(/^\n/, ""), frag, ctx || {});
      }
    });
    return frag;
  }

  window.Mrkdwn = { render: render, decode: decode };
})();

/* Block Kit → DOM, for messages, modals and Home tabs. Renders whatever blocks arrive:
 * header, section (text, fields, accessory), context, divider, actions, input, image (alt text
 * only: the page fetches nothing), rich_text, markdown; elements: buttons (with confirm dialogs),
 * overflow menus, static/multi/users/conversations selects, date/time pickers, text, number,
 * URL and e-mail inputs, radio buttons, checkboxes. Unknown types are shown as such, never
 * dropped silently. */
(function () {
  "use strict";
  let uid = 0;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function textObj(obj, ctx) {
    if (!obj) return document.createTextNode("");
    if (typeof obj === "string") return document.createTextNode(obj);
    if (obj.type === "mrkdwn") return Mrkdwn.render(obj.text, ctx.names);
    return document.createTextNode(obj.text || "");
  }

  function plain(obj) {
    return obj ? (typeof obj === "string" ? obj : obj.text || "") : "";
  }

  function allOptions(element) {
    let options = (element.options || []).slice();
    (element.option_groups || []).forEach(function (g) { options = options.concat(g.options || []); });
    return options;
  }

  function focusKey(ctx, blockId, actionId, value) {
    return [ctx.key || "", blockId || "", actionId || "", value === undefined ? "" : value].join("|");
  }

  /* -- menus (overflow and selects outside inputs): a button opening a list of buttons -- */
  function closeMenus(except) {
    document.querySelectorAll(".bk-menu-list").forEach(function (list) {
      if (list !== except) {
        list.hidden = true;
        const opener = list.parentNode.querySelector(".bk-menu-button");
        if (opener) opener.setAttribute("aria-expanded", "false");
      }
    });
  }
  document.addEventListener("click", function (event) {
    if (!event.target.closest(".bk-menu")) closeMenus(null);
  });

  function menu(label, ariaLabel, entries, onPick, cls) {
    const wrap = el("div", "bk-menu");
    const button = el("button", "bk-menu-button " + (cls || ""), label);
    button.type = "button";
    button.setAttribute("aria-haspopup", "true");
    button.setAttribute("aria-expanded", "false");
    if (ariaLabel) button.setAttribute("aria-label", ariaLabel);
    const list = el("div", "bk-menu-list");
    list.setAttribute("role", "menu");
    list.hidden = true;
    entries.forEach(function (entry) {
      if (entry.group) {
        list.append(el("div", "bk-menu-group", entry.group));
        return;
      }
      const item = el("button", "bk-menu-item", entry.label);
      item.type = "button";
      item.setAttribute("role", "menuitem");
      item.dataset.value = entry.value;
      item.addEventListener("click", function () {
        list.hidden = true;
        button.setAttribute("aria-expanded", "false");
        onPick(entry.value, button);
      });
      list.append(item);
    });
    button.addEventListener("click", function () {
      const open = list.hidden;
      closeMenus(list);
      list.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      if (open) {
        const first = list.querySelector(".bk-menu-item");
        if (first) first.focus();
      }
    });
    list.addEventListener("keydown", function (event) {
      const items = Array.from(list.querySelectorAll(".bk-menu-item"));
      const at = items.indexOf(document.activeElement);
      if (event.key === "Escape") {
        list.hidden = true;
        button.setAttribute("aria-expanded", "false");
        button.focus();
        event.preventDefault();
        event.stopPropagation();
      } else if (event.key === "ArrowDown" && items.length) {
        items[(at + 1) % items.length].focus();
        event.preventDefault();
      } else if (event.key === "ArrowUp" && items.length) {
        items[(at - 1 + items.length) % items.length].focus();
        event.preventDefault();
      }
    });
    wrap.append(button, list);
    return wrap;
  }

  function optionEntries(element) {
    if (element.option_groups) {
      let out = [];
      element.option_groups.forEach(function (g) {
        out.push({ group: plain(g.label) });
        (g.options || []).forEach(function (o) { out.push({ label: plain(o.text), value: o.value }); });
      });
      return out;
    }
    return (element.options || []).map(function (o) { return { label: plain(o.text), value: o.value }; });
  }

  /* -- interactive elements outside input blocks: each use is a block_actions payload -- */
  function actionElement(element, blockId, ctx) {
    const send = function (value) { ctx.onAction(blockId, element.action_id, value, element); };
    const type = element.type;
    let node;
    if (type === "button") {
      node = el("button", "bk-button" + (element.style ? " " + element.style : ""), plain(element.text));
      node.type = "button";
      node.addEventListener("click", function () {
        if (element.confirm) {
          ctx.confirm(element.confirm).then(function (yes) { if (yes) send(element.value); });
        } else {
          send(element.value);
        }
      });
      node.dataset.focusKey = focusKey(ctx, blockId, element.action_id, element.value);
      return node;
    }
    if (type === "overflow") {
      node = menu("⋯", "More actions", optionEntries(element), send, "bk-overflow");
    } else if (type === "static_select" || type === "external_select") {
      const chosen = element.initial_option ? plain(element.initial_option.text) : plain(element.placeholder) || "Select an item";
      node = menu(chosen + " ▾", null, optionEntries(element), send, "bk-select");
    } else if (type === "users_select") {
      const entries = ctx.people.map(function (p) { return { label: p.real_name, value: p.id }; });
      const initial = element.initial_user && ctx.names.userName(element.initial_user);
      node = menu((initial || plain(element.placeholder) || "Select a person") + " ▾", null, entries, send, "bk-select");
    } else if (type === "conversations_select" || type === "channels_select") {
      const entries = ctx.channels.map(function (c) { return { label: "#" + c.name, value: c.id }; });
      node = menu((plain(element.placeholder) || "Select a channel") + " ▾", null, entries, send, "bk-select");
    } else if (type === "datepicker") {
      node = el("input", "bk-date");
      node.type = "date";
      if (element.initial_date) node.value = element.initial_date;
      node.setAttribute("aria-label", plain(element.placeholder) || "Pick a date");
      node.addEventListener("change", function () { if (node.value) send(node.value); });
    } else if (type === "timepicker") {
      node = el("input", "bk-time");
      node.type = "time";
      if (element.initial_time) node.value = element.initial_time;
      node.addEventListener("change", function () { if (node.value) send(node.value); });
    } else if (type.indexOf("multi_") === 0 || type === "checkboxes" || type === "radio_buttons") {
      node = inputControl(element, blockId, ctx, "bk-inline-" + (++uid));
      node.addEventListener("change", function () {
        const values = readControl(element, node);
        const v = values.selected_options ? values.selected_options.map(function (o) { return o.value; })
          : values.selected_option ? values.selected_option.value
          : values.selected_users || values.selected_conversations || values.selected_channels;
        send(v);
      });
    } else {
      node = el("span", "bk-unknown", "[" + type + "]");
    }
    const focusable = node.matches("button, input, select") ? node : node.querySelector("button, input, select");
    if (focusable) focusable.dataset.focusKey = focusKey(ctx, blockId, element.action_id, "");
    return node;
  }

  /* -- input elements in modals: read when the modal is submitted -- */
  function placeholderOption(text, optional) {
    /* A required select starts empty and cannot be set back to empty (as in Slack). */
    const none = el("option", "", text);
    none.value = "";
    if (!optional) {
      none.disabled = true;
      none.hidden = true;
      none.selected = true;
    }
    return none;
  }

  function inputControl(element, blockId, ctx, id, optional) {
    const type = element.type;
    let node;
    const name = blockId + "::" + element.action_id;
    if (type === "plain_text_input" || type === "rich_text_input") {
      node = el(element.multiline || type === "rich_text_input" ? "textarea" : "input", "bk-text-input");
      if (node.tagName === "INPUT") node.type = "text";
      if (element.initial_value) node.value = element.initial_value;
      if (element.max_length) node.maxLength = element.max_length;
    } else if (type === "number_input" || type === "url_text_input" || type === "email_text_input") {
      node = el("input", "bk-text-input");
      node.type = "text";
      if (type === "number_input") node.inputMode = element.is_decimal_allowed ? "decimal" : "numeric";
      if (type === "email_text_input") node.inputMode = "email";
      if (type === "url_text_input") node.inputMode = "url";
      if (element.initial_value) node.value = element.initial_value;
    } else if (type === "static_select" || type === "multi_static_select" || type === "external_select" ||
               type === "multi_external_select") {
      node = el("select", "bk-select-input");
      const multi = type.indexOf("multi_") === 0;
      node.multiple = multi;
      if (multi) node.size = 8;
      if (!multi) node.append(placeholderOption(plain(element.placeholder) || "Select an option", optional));
      const initial = {};
      (element.initial_options || []).concat(element.initial_option ? [element.initial_option] : [])
        .forEach(function (o) { initial[o.value] = true; });
      const addOptions = function (parent, options) {
        (options || []).forEach(function (o) {
          const opt = el("option", "", plain(o.text));
          opt.value = o.value;
          opt.selected = !!initial[o.value];
          parent.append(opt);
        });
      };
      if (element.option_groups) {
        element.option_groups.forEach(function (g) {
          const group = el("optgroup");
          group.label = plain(g.label);
          addOptions(group, g.options);
          node.append(group);
        });
      } else {
        addOptions(node, element.options);
      }
    } else if (type === "users_select" || type === "multi_users_select") {
      node = el("select", "bk-select-input");
      const multi = type === "multi_users_select";
      node.multiple = multi;
      if (multi) node.size = 6;
      if (!multi) node.append(placeholderOption(plain(element.placeholder) || "Select a person", optional));
      const initial = {};
      (element.initial_users || []).concat(element.initial_user ? [element.initial_user] : [])
        .forEach(function (u) { initial[u] = true; });
      ctx.people.forEach(function (p) {
        const opt = el("option", "", p.real_name + " (" + p.title + ")");
        opt.value = p.id;
        opt.selected = !!initial[p.id];
        node.append(opt);
      });
    } else if (/conversations_select|channels_select/.test(type)) {
      node = el("select", "bk-select-input");
      const multi = type.indexOf("multi_") === 0;
      node.multiple = multi;
      if (!multi) node.append(placeholderOption(plain(element.placeholder) || "Select a channel", optional));
      const initial = element.initial_conversation || element.initial_channel || "";
      ctx.channels.forEach(function (c) {
        const opt = el("option", "", "#" + c.name);
        opt.value = c.id;
        opt.selected = c.id === initial;
        node.append(opt);
      });
    } else if (type === "datepicker") {
      node = el("input", "bk-date");
      node.type = "date";
      if (element.initial_date) node.value = element.initial_date;
    } else if (type === "timepicker") {
      node = el("input", "bk-time");
      node.type = "time";
      if (element.initial_time) node.value = element.initial_time;
    } else if (type === "radio_buttons" || type === "checkboxes") {
      node = el("fieldset", "bk-choices");
      const initial = {};
      (element.initial_options || []).concat(element.initial_option ? [element.initial_option] : [])
        .forEach(function (o) { initial[o.value] = true; });
      (element.options || []).forEach(function (o, n) {
        const label = el("label", "bk-choice");
        const box = el("input");
        box.type = type === "radio_buttons" ? "radio" : "checkbox";
        box.name = name;
        box.value = o.value;
        box.checked = !!initial[o.value];
        if (n === 0) box.id = id;
        const text = el("span");
        text.append(textObj(o.text, ctx));
        label.append(box, text);
        if (o.description) label.append(el("small", "bk-choice-help", plain(o.description)));
        node.append(label);
      });
      node.dataset.name = name;
      node.dataset.type = type;
      node.dataset.actionId = element.action_id;
      return node;
    } else {
      node = el("span", "bk-unknown", "[unsupported input " + type + "]");
      return node;
    }
    node.id = id;
    node.name = name;
    node.dataset.type = type;
    node.dataset.actionId = element.action_id;
    if (element.placeholder && node.tagName !== "SELECT") node.placeholder = plain(element.placeholder);
    return node;
  }

  function option(element, value) {
    const found = allOptions(element).find(function (o) { return o.value === value; });
    return found ? JSON.parse(JSON.stringify(found)) : null;
  }

  function readControl(element, node) {
    const type = element.type;
    const out = { type: type };
    if (type === "radio_buttons" || type === "checkboxes") {
      const checked = Array.from(node.querySelectorAll("input:checked")).map(function (b) { return b.value; });
      if (type === "radio_buttons") out.selected_option = checked.length ? option(element, checked[0]) : null;
      else out.selected_options = checked.map(function (v) { return option(element, v); });
      return out;
    }
    const selected = node.tagName === "SELECT"
      ? Array.from(node.selectedOptions).map(function (o) { return o.value; }).filter(Boolean) : [];
    switch (type) {
      case "static_select": case "external_select":
        out.selected_option = selected.length ? option(element, selected[0]) : null; break;
      case "multi_static_select": case "multi_external_select":
        out.selected_options = selected.map(function (v) { return option(element, v); }); break;
      case "users_select": out.selected_user = selected[0] || null; break;
      case "multi_users_select": out.selected_users = selected; break;
      case "conversations_select": out.selected_conversation = selected[0] || null; break;
      case "multi_conversations_select": out.selected_conversations = selected; break;
      case "channels_select": out.selected_channel = selected[0] || null; break;
      case "multi_channels_select": out.selected_channels = selected; break;
      case "datepicker": out.selected_date = node.value || null; break;
      case "timepicker": out.selected_time = node.value || null; break;
      default: out.value = node.value === "" ? null : node.value;
    }
    return out;
  }

  function isEmpty(v) {
    if (v.selected_options) return v.selected_options.length === 0;
    if (v.selected_users) return v.selected_users.length === 0;
    if (v.selected_conversations) return v.selected_conversations.length === 0;
    if (v.selected_channels) return v.selected_channels.length === 0;
    const keys = Object.keys(v).filter(function (k) { return k !== "type"; });
    return keys.every(function (k) { return v[k] === null || v[k] === undefined || v[k] === ""; });
  }

  /* What Slack itself checks in the client before anything reaches the app. */
  function clientProblem(element, v, optional) {
    if (isEmpty(v)) return optional ? null : "Please complete this required field.";
    const text = typeof v.value === "string" ? v.value : null;
    if (text === null) return null;
    if (element.min_length && text.length < element.min_length)
      return "Please enter at least " + element.min_length + " characters.";
    if (element.type === "number_input") {
      const pattern = element.is_decimal_allowed ? /^-?\d+(\.\d+)?$/ : /^-?\d+$/;
      if (!pattern.test(text.trim())) return element.is_decimal_allowed ? "Please enter a number." : "Please enter a whole number.";
      const n = Number(text);
      if (element.min_value !== undefined && n < Number(element.min_value)) return "Please enter a number no less than " + element.min_value + ".";
      if (element.max_value !== undefined && n > Number(element.max_value)) return "Please enter a number no more than " + element.max_value + ".";
    }
    if (element.type === "url_text_input" && !/^https?:\/\/\S+\.\S+/i.test(text.trim())) return "Please enter a valid URL.";
    if (element.type === "email_text_input" && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(text.trim())) return "Please enter a valid email address.";
    return null;
  }

  function inputBlock(block, ctx) {
    const wrap = el("div", "bk-input");
    wrap.dataset.blockId = block.block_id;
    const id = "bk-in-" + (++uid);
    const label = el("label", "bk-label");
    label.htmlFor = id;
    label.append(plain(block.label));
    if (block.optional) label.append(el("span", "bk-optional", " (optional)"));
    const element = block.element || {};
    const control = ctx.surface === "modal" || !block.dispatch_action
      ? inputControl(element, block.block_id, ctx, id, !!block.optional) : actionElement(element, block.block_id, ctx);
    if (control.tagName === "FIELDSET") {
      const legend = el("legend", "bk-label", plain(block.label) + (block.optional ? " (optional)" : ""));
      control.prepend(legend);
      wrap.append(control);
    } else {
      wrap.append(label, control);
    }
    const error = el("div", "bk-error");
    error.id = id + "-error";
    error.setAttribute("role", "alert");
    error.hidden = true;
    wrap.append(error);
    if (block.hint) {
      const hint = el("div", "bk-hint", plain(block.hint));
      hint.id = id + "-hint";
      wrap.append(hint);
      control.setAttribute("aria-describedby", hint.id + " " + error.id);
    } else {
      control.setAttribute("aria-describedby", error.id);
    }
    wrap._bk = { element: element, control: control, optional: !!block.optional, blockId: block.block_id };
    return wrap;
  }

  function renderBlock(block, ctx) {
    const type = block.type;
    let node;
    switch (type) {
      case "header":
        node = el("div", "bk-header");
        node.setAttribute("role", "heading");
        node.setAttribute("aria-level", "3");
        node.append(textObj(block.text, ctx));
        break;
      case "section": {
        node = el("div", "bk-section");
        const body = el("div", "bk-section-body");
        if (block.text) {
          const t = el("div", "bk-text");
          t.append(textObj(block.text, ctx));
          body.append(t);
        }
        if (block.fields) {
          const fields = el("div", "bk-fields");
          block.fields.forEach(function (f) {
            const cell = el("div", "bk-field");
            cell.append(textObj(f, ctx));
            fields.append(cell);
          });
          body.append(fields);
        }
        node.append(body);
        if (block.accessory) {
          const acc = el("div", "bk-accessory");
          if (block.accessory.type === "image") acc.append(image(block.accessory));
          else acc.append(actionElement(block.accessory, block.block_id, ctx));
          node.append(acc);
        }
        break;
      }
      case "context":
        node = el("div", "bk-context");
        (block.elements || []).forEach(function (e) {
          const part = el("span", "bk-context-part");
          part.append(e.type === "image" ? image(e) : textObj(e, ctx));
          node.append(part);
        });
        break;
      case "divider":
        node = el("hr", "bk-divider");
        break;
      case "actions":
        node = el("div", "bk-actions");
        (block.elements || []).forEach(function (e) { node.append(actionElement(e, block.block_id, ctx)); });
        break;
      case "input":
        node = inputBlock(block, ctx);
        break;
      case "image":
        node = el("figure", "bk-image");
        node.append(image(block));
        if (block.title) node.append(el("figcaption", "", plain(block.title)));
        break;
      case "markdown":
        node = el("div", "bk-text");
        node.append(Mrkdwn.render(block.text, ctx.names));
        break;
      case "rich_text":
        node = el("div", "bk-text");
        node.append(richText(block.elements || [], ctx));
        break;
      default:
        node = el("div", "bk-unknown", "[unsupported block: " + type + "]");
    }
    if (block.block_id) node.dataset.blockId = block.block_id;
    return node;
  }

  function image(obj) {
    /* No fetch: the sandbox loads nothing from the network. */
    return el("span", "bk-image-alt", "🖼 " + (obj.alt_text || "image"));
  }

  function richText(elements, ctx) {
    const frag = document.createDocumentFragment();
    elements.forEach(function (e) {
      if (e.elements) frag.append(richText(e.elements, ctx));
      else if (e.type === "text") frag.append(e.text || "");
      else if (e.type === "link") frag.append(e.text || e.url || "");
      else if (e.type === "user") frag.append("@" + (ctx.names.userName(e.user_id) || e.user_id));
      else if (e.type === "emoji") frag.append(e.unicode ? String.fromCodePoint(parseInt(e.unicode, 16)) : ":" + e.name + ":");
    });
    return frag;
  }

  function renderBlocks(blocks, ctx) {
    const wrap = el("div", "bk-blocks");
    (blocks || []).forEach(function (b) { wrap.append(renderBlock(b, ctx)); });
    return wrap;
  }

  /* view.state.values as Slack sends them, plus problems Slack's client would show. */
  function collect(container) {
    const values = {};
    const problems = {};
    container.querySelectorAll(".bk-input").forEach(function (wrap) {
      const info = wrap._bk;
      if (!info || !info.element.action_id) return;
      const v = readControl(info.element, info.control);
      values[info.blockId] = {};
      values[info.blockId][info.element.action_id] = v;
      const problem = clientProblem(info.element, v, info.optional);
      if (problem) problems[info.blockId] = problem;
    });
    return { values: values, problems: problems };
  }

  function showErrors(container, errors) {
    let first = null;
    container.querySelectorAll(".bk-input").forEach(function (wrap) {
      const message = errors[wrap.dataset.blockId];
      const box = wrap.querySelector(".bk-error");
      const control = wrap._bk && wrap._bk.control;
      box.hidden = !message;
      box.textContent = message || "";
      wrap.classList.toggle("has-error", !!message);
      if (control) control.setAttribute("aria-invalid", message ? "true" : "false");
      if (message && !first) first = control && (control.matches("input, select, textarea") ? control : control.querySelector("input"));
    });
    return first;
  }

  /* Keep what a person typed when the same input comes back in an updated view. */
  function snapshot(container) {
    const out = {};
    container.querySelectorAll("input, select, textarea").forEach(function (c) {
      const key = c.name;
      if (!key) return;
      if (c.type === "checkbox" || c.type === "radio") {
        out[key] = out[key] || [];
        if (c.checked) out[key].push(c.value);
      } else if (c.tagName === "SELECT") {
        out[key] = Array.from(c.selectedOptions).map(function (o) { return o.value; });
      } else {
        out[key] = c.value;
      }
    });
    return out;
  }

  function restore(container, saved) {
    container.querySelectorAll("input, select, textarea").forEach(function (c) {
      if (!c.name || !(c.name in saved)) return;
      const v = saved[c.name];
      if (c.type === "checkbox" || c.type === "radio") c.checked = v.indexOf(c.value) >= 0;
      else if (c.tagName === "SELECT") Array.from(c.options).forEach(function (o) { o.selected = v.indexOf(o.value) >= 0; });
      else c.value = v;
    });
  }

  window.BlockKit = { renderBlocks: renderBlocks, collect: collect, showErrors: showErrors, snapshot: snapshot,
                      restore: restore, textObj: textObj, plain: plain, closeMenus: closeMenus };
})();

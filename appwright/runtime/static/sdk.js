/* Appwright SDK, format v1. Served at /_aw/sdk.js; no build step, no dependencies.
 * Reference: `appwright docs` (generated from the same source as the server's validator).
 * Every call that fails throws an Error whose message is the server's explanation;
 * err.status, err.code and err.details carry the rest. */
(function () {
  "use strict";
  // The app's root path ("" or "/apps/<id>"), filled in by the server. Under a Host, pages load
  // /_aw/sdk.js from the host's root, which works the app out from the page's own path.
  var BASE = __AW_BASE__;
  var API = BASE + "/_aw/api";
  var FORM = { "X-AW-Values": "form" };  // writes take form values (strings) in the fields' types

  async function request(method, path, body, headers) {
    var opts = { method: method, credentials: "same-origin", headers: Object.assign({ "X-AW": "1" }, headers) };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    var res;
    try {
      res = await fetch(API + path, opts);
    } catch (e) {
      throw new Error("could not reach the server: " + e.message);
    }
    if (res.status === 204) return null;
    var data = null;
    try { data = await res.json(); } catch (e) { /* not JSON: handled below */ }
    if (!res.ok) {
      var err = new Error((data && data.error) || ("request failed with HTTP " + res.status));
      err.status = res.status;
      err.code = data && data.code;
      err.details = (data && data.details) || [];
      throw err;
    }
    return data;
  }

  function query(opts) {
    var q = new URLSearchParams();
    opts = opts || {};
    Object.keys(opts).forEach(function (k) {
      var v = opts[k];
      if (v === undefined || v === null) return;
      q.set(k, k === "where" ? JSON.stringify(v) : String(v));
    });
    var s = q.toString();
    return s ? "?" + s : "";
  }

  var info = null;  // GET /app, once a page: the app's name, sign-up rule and entities (with `schema`)
  function appInfo() { return info || (info = request("GET", "/app")); }

  function checkId(id) {
    if (typeof id !== "string" || !id) throw new Error("expected a record id (a string); got " + String(id));
    return encodeURIComponent(id);
  }

  // aw.entities.Note -> the client of one entity. Unknown names fail with the server's list of entities.
  function entity(name) {
    var path = "/entities/" + encodeURIComponent(name);
    return {
      // An array of records. Follows pages until `limit` records (default 1000) are gathered.
      list: async function (opts) {
        opts = Object.assign({}, opts || {});
        var want = opts.limit === undefined ? 1000 : opts.limit, out = [], cursor = opts.cursor;
        while (out.length < want) {
          var page = await request("GET", path + query(Object.assign({}, opts, {
            limit: Math.min(200, want - out.length), cursor: cursor })));
          out = out.concat(page.items);
          if (!page.next) break;
          cursor = page.next;
        }
        return out;
      },
      page: function (opts) { return request("GET", path + query(opts)); },
      get: function (id) { return request("GET", path + "/" + checkId(id)); },
      // Values may come straight from a form: "12" for a number field is stored as 12, "" as no value.
      create: function (values) { return request("POST", path, values || {}, FORM); },
      update: function (id, values) { return request("PATCH", path + "/" + checkId(id), values || {}, FORM); },
      remove: function (id) { return request("DELETE", path + "/" + checkId(id)); },
    };
  }

  var entities = new Proxy({}, {
    get: function (cache, name) {
      if (typeof name !== "string" || name === "then") return undefined;
      if (!cache[name]) cache[name] = entity(name);
      return cache[name];
    },
  });

  var auth = {
    me: async function () { return (await request("GET", "/auth/session")).user; },
    signup: async function (email, password, invite) {
      var body = { email: email, password: password };
      if (invite) body.invite = invite;
      return (await request("POST", "/auth/signup", body)).user;
    },
    login: async function (email, password) {
      return (await request("POST", "/auth/login", { email: email, password: password })).user;
    },
    logout: function () { return request("POST", "/auth/logout"); },
    // Admins only: an invite code for an invite-only app, optionally carrying a role.
    invite: async function (role) { return (await request("POST", "/auth/invites", role ? { role: role } : {})).code; },
  };

  // -- aw.html: a tagged template whose interpolated values are always escaped ----------------
  // A String object (so string methods and innerHTML work) that marks already-escaped HTML.
  class SafeHTML extends String {}

  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };
  function escape(value) {
    if (value === null || value === undefined || value === false) return "";
    if (value instanceof SafeHTML) return String(value);
    if (Array.isArray(value)) return value.map(escape).join("");
    return String(value).replace(/[&<>"'`]/g, function (c) { return ESC[c]; });
  }

  // The start tag a value sits in (`<a class="x" href=` for aw.html`<a class="x" href=${v}>`), or null
  // when the value is text between tags. Attributes are separated by space, "/" or a closing quote.
  function openTag(before) { var m = /<[a-zA-Z][^<>]*$/.exec(before); return m ? m[0] : null; }
  var IN_HANDLER = /[\s\/"']on[a-z]+\s*=\s*("[^"]*|'[^']*|[^\s"'>]*)$/i;  // anywhere inside on*="..."
  var URL_ATTR = /[\s\/"'](href|src|action|formaction|xlink:href)\s*=\s*["']?$/i;
  // Browsers drop tabs and newlines anywhere in a URL and C0 controls and spaces around it,
  // so "java\tscript:" is "javascript:"; drop them all before looking at the scheme.
  function unsafeUrl(value) {
    return /^(javascript|vbscript|data):/i.test(String(value).replace(/[\u0000-\u0020\u007f]/g, ""));
  }

  function html(strings) {
    var out = strings[0];
    for (var i = 1; i < strings.length; i++) {
      var value = arguments[i], tag = openTag(out);
      if (tag && IN_HANDLER.test(tag)) {
        throw new Error("aw.html: do not put values into on* event attributes; attach listeners in JavaScript");
      }
      if (tag && URL_ATTR.test(tag) && unsafeUrl(value)) value = "#blocked-unsafe-url";
      var text = escape(value);
      // An unquoted attribute value (`<a title=${x}>`) gets quotes so it cannot add attributes.
      if (tag && /=\s*$/.test(tag)) text = '"' + text + '"';
      out += text + strings[i];
    }
    return new SafeHTML(out);
  }

  // -- aw.ui.authForm: a ready-made sign-in / sign-up form ----------------------------------
  function authForm(element, options) {
    options = options || {};
    element = el(element, "authForm");
    var onChange = options.onChange || function () { location.reload(); };

    async function render() {
      var user = await auth.me();
      if (user) {
        element.innerHTML = String(html`<div class="aw-auth aw-signed-in"><span>Signed in as <b>${user.email}</b></span>
          <button type="button" class="aw-logout">Sign out</button></div>`);
        element.querySelector(".aw-logout").addEventListener("click", async function () {
          await auth.logout(); onChange(null);
        });
        return;
      }
      var info = await appInfo();
      var mode = "login";
      element.innerHTML = String(html`<form class="aw-auth">
          <label>Email <input name="email" type="email" autocomplete="email" required></label>
          <label>Password <input name="password" type="password" placeholder="8+ characters"
                 autocomplete="current-password" required minlength="8"></label>
          ${info.signup === "invite" ? html`<label class="aw-invite" hidden>Invite code <input name="invite"></label>` : ""}
          <div class="aw-actions"><button type="submit" class="aw-submit">Sign in</button>
          ${info.signup === "closed" ? "" : html`<button type="button" class="aw-switch">Create an account</button>`}</div>
          <p class="aw-error" role="alert"></p></form>`);
      var form = element.querySelector("form"), error = form.querySelector(".aw-error");
      var swap = form.querySelector(".aw-switch");
      if (swap) swap.addEventListener("click", function () {
        mode = mode === "login" ? "signup" : "login";
        form.querySelector(".aw-submit").textContent = mode === "login" ? "Sign in" : "Sign up";
        swap.textContent = mode === "login" ? "Create an account" : "I have an account";
        if (form.invite) form.querySelector(".aw-invite").hidden = mode === "login";
      });
      form.addEventListener("submit", async function (ev) {
        ev.preventDefault();
        error.textContent = "";
        try {
          var u = await busy(form, mode === "login"
            ? auth.login(form.email.value, form.password.value)
            : auth.signup(form.email.value, form.password.value, form.invite && form.invite.value));
          onChange(u);
        } catch (e) { error.textContent = e.message; }
      });
    }
    return render();
  }

  // -- small helpers for the states a page shows: empty, busy, failed ----------------------
  // `element` may be a CSS selector, or "#" and an id as the page wrote it, which CSS may read
  // otherwise or not at all ("#collector's-corner", "#sign in").
  function el(element, who) {
    if (typeof element === "string") {
      var selector = element;
      try {
        element = document.querySelector(selector);
      } catch (e) {
        if (selector.charAt(0) !== "#") throw new Error("aw.ui." + who + ": " + selector + " is not a CSS selector");
        element = null;
      }
      if (!element && selector.charAt(0) === "#") element = document.getElementById(selector.slice(1));
    }
    if (!element) throw new Error("aw.ui." + who + ": expected an element or a CSS selector that matches one");
    return element;
  }

  // Fill a list with render(item) for each item (aw.html results), or a line saying it is empty.
  function list(element, items, render, empty) {
    element = el(element, "list");
    var tag = /^(UL|OL)$/.test(element.tagName) ? "li" : "p";
    element.innerHTML = items.length ? String(html`${items.map(render)}`)
      : "<" + tag + ' class="aw-empty">' + escape(empty || "Nothing here yet.") + "</" + tag + ">";
    return element;
  }

  // Mark an element (a form, a button) busy while a promise runs; its buttons are disabled meanwhile.
  async function busy(element, promise) {
    element = el(element, "busy");
    var buttons = [].slice.call(element.querySelectorAll ? element.querySelectorAll("button") : []);
    if (element.tagName === "BUTTON") buttons.push(element);
    element.setAttribute("aria-busy", "true");
    buttons.forEach(function (b) { b.disabled = true; });
    try { return await promise; } finally {
      element.removeAttribute("aria-busy");
      buttons.forEach(function (b) { b.disabled = false; });
    }
  }

  // Show an error's message (an SDK error says what went wrong) in an element; null clears it.
  function error(element, err) {
    element = el(element, "error");
    element.classList.add("aw-error");
    element.setAttribute("role", "alert");
    element.textContent = err ? (err.message || String(err)) : "";
    return element;
  }

  // -- aw.ui.records: a ready-made form and list for one entity, built from app.json ----------
  // The form has one labelled input per field (its type, limits and choices from app.json) and
  // shows only to those who may create; the list only to those who may read, each record with a
  // Delete button where its reader may delete it. Options: entity (default: the first entity),
  // sort ("field" or "-field"), total (number fields summed under the list), search (a search box
  // over the text fields), filter (an enum field: a menu of its values), form / list (false to
  // leave one out), empty (the text of an empty list).

  function label(name) {
    var words = String(name).replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/_/g, " ").toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }
  function plural(name) {
    var w = label(name).toLowerCase();
    return /[^aeiou]y$/.test(w) ? w.slice(0, -1) + "ies" : /(s|x|ch|sh)$/.test(w) ? w + "es" : w + "s";
  }
  function may(rules, op, me, record) {
    return (rules[op] || []).some(function (who) {
      if (who === "public") return true;
      if (!me) return false;
      if (who === "signed_in") return true;
      if (who === "owner") return op === "create" || !record || record.owner === me.id;
      return me.role === who;
    });
  }
  function titleField(fields) {
    var names = Object.keys(fields);
    return names.filter(function (n) { return fields[n].type === "string" && fields[n].required; })[0]
      || names.filter(function (n) { return fields[n].type === "string"; })[0] || names[0];
  }
  function shown(value, spec) {
    if (value === null || value === undefined || value === "") return "";
    if (spec.type === "boolean") return value ? "yes" : "no";
    if (spec.type === "datetime") return String(value).replace("T", " ").slice(0, 16);
    return String(value);
  }
  function input(name, spec, choices) {
    var req = spec.required ? " required" : "", id = "aw-f-" + name;
    var common = html`name="${name}" id="${id}"`;
    var given = spec.default === undefined || spec.default === null ? "" : String(spec.default);
    if (spec.type === "enum" || spec.type === "ref") {
      var opts = spec.type === "enum" ? spec.values.map(function (v) { return [v, label(v)]; }) : choices;
      return html`<label for="${id}">${label(name)}</label><select ${common}${new SafeHTML(req)}>
        ${spec.required ? "" : html`<option value="">-</option>`}
        ${opts.map(function (o) {
          return html`<option value="${o[0]}"${new SafeHTML(o[0] === given ? " selected" : "")}>${o[1]}</option>`; })}
        </select>`;
    }
    if (spec.type === "boolean") {
      return html`<label for="${id}"><input type="checkbox" ${common}${spec.default ? new SafeHTML(" checked") : ""}>
        ${label(name)}</label>`;
    }
    if (spec.type === "text") {
      return html`<label for="${id}">${label(name)}</label><textarea ${common}${new SafeHTML(req)}
        maxlength="${spec.max_length || 100000}">${given}</textarea>`;
    }
    var type = { number: "number", integer: "number", date: "date", datetime: "datetime-local" }[spec.type] || "text";
    var extra = "";
    if (type === "number") {
      extra = ' step="' + (spec.type === "integer" ? "1" : "any") + '"';
      if (spec.min !== null && spec.min !== undefined) extra += ' min="' + Number(spec.min) + '"';
      if (spec.max !== null && spec.max !== undefined) extra += ' max="' + Number(spec.max) + '"';
    } else if (type === "text") extra = ' maxlength="' + Number(spec.max_length || 1000) + '"';
    return html`<label for="${id}">${label(name)}</label><input type="${type}" ${common}${new SafeHTML(req + extra)}
      value="${given}">`;
  }

  async function records(element, options) {
    element = el(element, "records");
    options = options || {};
    var app = await appInfo(), name = options.entity || app.entities[0];
    var schema = app.schema[name];
    if (!schema) throw new Error("aw.ui.records: no entity " + JSON.stringify(name) + " in app.json; it declares " +
                                 (app.entities.join(", ") || "none"));
    var fields = schema.fields, rules = schema.rules, names = Object.keys(fields), title = titleField(fields);
    var me = await auth.me(), client = entities[name];
    var totals = [].concat(options.total || []), texts = names.filter(function (n) {
      return ["string", "text", "enum"].indexOf(fields[n].type) >= 0; });
    var showForm = options.form !== false && may(rules, "create", me);
    var showList = options.list !== false && may(rules, "read", me);
    var refs = {};
    for (var i = 0; i < names.length; i++) {  // a ref field picks from the records it may point to
      var f = fields[names[i]];
      if (f.type !== "ref" || !showForm) continue;
      var target = app.schema[f.entity], key = target ? titleField(target.fields) : "id";
      var items = target ? await entities[f.entity].list({ sort: key }).catch(function () { return []; }) : [];
      refs[names[i]] = items.map(function (r) { return [r.id, r[key] || r.id]; });
    }
    var filterSpec = options.filter && fields[options.filter];
    element.innerHTML = String(html`<div class="aw-records">
      ${showForm ? html`<form class="aw-records-form">${names.map(function (n) { return input(n, fields[n], refs[n]); })}
        <button type="submit">Add ${label(name).toLowerCase()}</button><p class="aw-error" role="alert"></p></form>` : ""}
      ${showList && (options.search || filterSpec) ? html`<div class="aw-records-tools">
        ${options.search ? html`<input type="search" name="search" placeholder="Search" aria-label="Search">` : ""}
        ${filterSpec ? html`<select name="filter" aria-label="Filter by ${label(options.filter).toLowerCase()}">
          <option value="">All</option>${(filterSpec.values || []).map(function (v) {
            return html`<option value="${v}">${label(v)}</option>`; })}</select>` : ""}</div>` : ""}
      ${showList ? html`<ul class="aw-records-list"></ul><p class="aw-records-total"></p>
        <p class="aw-error" role="alert"></p>` : ""}
      ${!showList && showForm ? html`<p class="aw-records-sent" role="status"></p>` : ""}</div>`);
    var form = element.querySelector("form"), ul = element.querySelector(".aw-records-list");
    var all = [];

    function render() {
      var q = (element.querySelector("input[type=search]") || {}).value || "";
      var pick = (element.querySelector("select[name=filter]") || {}).value || "";
      var items = all.filter(function (r) {
        if (pick && r[options.filter] !== pick) return false;
        return !q || texts.some(function (n) { return String(r[n] || "").toLowerCase().indexOf(q.toLowerCase()) >= 0; });
      });
      list(ul, items, function (r) {
        return html`<li class="aw-record"><strong>${shown(r[title], fields[title])}</strong>
          ${names.filter(function (n) { return n !== title && shown(r[n], fields[n]) !== ""; }).map(function (n) {
            var hit = (refs[n] || []).filter(function (o) { return o[0] === r[n]; })[0], v = hit ? hit[1] : r[n];
            return html`<span class="aw-field">${label(n)}: ${shown(v, fields[n])}</span> `; })}
          ${may(rules, "delete", me, r) ? html`<button type="button" data-delete="${r.id}">Delete</button>` : ""}</li>`;
      }, options.empty || "No " + plural(name) + " yet.");
      var total = element.querySelector(".aw-records-total");
      total.textContent = totals.map(function (n) {
        var sum = items.reduce(function (s, r) { return s + (Number(r[n]) || 0); }, 0);
        return "Total " + label(n).toLowerCase() + ": " + Math.round(sum * 100) / 100;
      }).join(" · ");
    }
    async function refresh() {
      if (!ul) return;
      all = await client.list({ sort: options.sort || "-created_at" });
      render();
    }
    element.addEventListener("input", function (e) { if (e.target.closest(".aw-records-tools")) render(); });
    element.addEventListener("change", function (e) { if (e.target.closest(".aw-records-tools")) render(); });
    if (ul) ul.addEventListener("click", async function (e) {
      var id = e.target.getAttribute("data-delete");
      if (!id) return;
      var shownError = element.querySelector(".aw-records-list ~ .aw-error");
      try { await busy(e.target, client.remove(id)); error(shownError, null); await refresh(); }
      catch (err) { error(shownError, err); }
    });
    if (form) form.addEventListener("submit", async function (e) {
      e.preventDefault();
      var values = {};
      names.forEach(function (n) {
        var box = form.elements.namedItem(n);  // not elements[n]: a field named item or length is a method there
        if (!box) return;
        if (fields[n].type === "boolean") values[n] = box.checked;
        else if (fields[n].type === "datetime" && box.value) values[n] = new Date(box.value).toISOString();
        else values[n] = box.value;
      });
      try {
        await busy(form, client.create(values));
        form.reset();
        error(form.querySelector(".aw-error"), null);
        var sent = element.querySelector(".aw-records-sent");
        if (sent) sent.textContent = "Sent. Thank you!";
        await refresh();
      } catch (err) { error(form.querySelector(".aw-error"), err); }
    });
    await refresh();
    return element;
  }

  // A helper the SDK does not have fails with what it does have, not "aw.ui.menu is not a function".
  function known(what, members, hint) {
    return new Proxy(members, {
      get: function (target, name) {
        if (typeof name !== "string" || name in target || name === "then" || name === "toJSON") return target[name];
        return function () {
          throw new Error(what + "." + name + " is not part of the SDK; " + what + " has " +
                          Object.keys(target).join(", ") + hint);
        };
      },
    });
  }

  window.aw = known("aw", { auth: auth, entities: entities, html: html, escape: escape,
    ui: known("aw.ui", { authForm: authForm, list: list, busy: busy, error: error, records: records },
              " (a menu to filter by, a search box and a total are options of aw.ui.records)") }, "");
})();

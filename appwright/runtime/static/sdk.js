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
    if (typeof element === "string") element = document.querySelector(element);
    if (!element) throw new Error("aw.ui.authForm: expected an element or a CSS selector that matches one");
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
      var info = await request("GET", "/app");
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
  function el(element, who) {
    if (typeof element === "string") element = document.querySelector(element);
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

  window.aw = { auth: auth, entities: entities, html: html, escape: escape,
                ui: { authForm: authForm, list: list, busy: busy, error: error } };
})();

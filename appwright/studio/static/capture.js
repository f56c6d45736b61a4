// Served by the studio's preview origin and loaded first in every preview page (preview.py).
// Reports what a bug report needs to the studio window, and only to it (postMessage's
// target origin): console errors, uncaught errors, unhandled rejections, failed fetch/XHR
// requests (status >= 400 or a network error) and failed resource loads, plus the page's
// location. Paths are made relative to the app (the /apps/<key> prefix is dropped), so a
// report never carries the preview's capability key.
(function () {
  "use strict";
  var STUDIO = "__STUDIO_ORIGIN__";
  if (window.parent === window) return; // opened on its own, not inside the studio
  var base = (location.pathname.match(/^\/apps\/[^\/]+/) || [""])[0];

  function rel(url) {
    try {
      var u = new URL(String(url), location.href);
      if (u.origin !== location.origin) return u.href;
      var path = u.pathname.indexOf(base) === 0 ? u.pathname.slice(base.length) || "/" : u.pathname;
      return path + u.search + u.hash;
    } catch (e) {
      return String(url);
    }
  }
  function text(value) {
    if (value instanceof Error) return value.name + ": " + value.message;
    if (typeof value === "object" && value !== null) {
      try { return JSON.stringify(value); } catch (e) { return String(value); }
    }
    return String(value);
  }
  function post(kind, data) {
    try {
      window.parent.postMessage({ awCapture: 1, kind: kind, data: data, location: rel(location.href) }, STUDIO);
    } catch (e) { /* the studio went away */ }
  }

  var consoleError = console.error;
  console.error = function () {
    post("console", Array.prototype.map.call(arguments, text).join(" ").slice(0, 1000));
    return consoleError.apply(console, arguments);
  };
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) { // a script, image or stylesheet that did not load
      post("request", { method: "GET", url: rel(t.src || t.href), status: 0 });
      return;
    }
    var where = e.filename ? " (" + rel(e.filename) + ":" + e.lineno + ")" : "";
    post("console", ("Uncaught " + (e.error ? text(e.error) : e.message) + where).slice(0, 1000));
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    post("console", ("Unhandled rejection: " + text(e.reason)).slice(0, 1000));
  });

  var realFetch = window.fetch;
  if (realFetch) {
    window.fetch = function (input, init) {
      var method = ((init && init.method) || (input && input.method) || "GET").toUpperCase();
      var url = rel(typeof input === "string" || input instanceof URL ? input : input.url);
      return realFetch.apply(this, arguments).then(function (res) {
        if (res.status >= 400) post("request", { method: method, url: url, status: res.status });
        return res;
      }, function (err) {
        post("request", { method: method, url: url, status: 0 });
        throw err;
      });
    };
  }
  var open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this._awRequest = { method: String(method).toUpperCase(), url: rel(url) };
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    var xhr = this;
    xhr.addEventListener("loadend", function () {
      if (xhr._awRequest && (xhr.status === 0 || xhr.status >= 400)) {
        post("request", { method: xhr._awRequest.method, url: xhr._awRequest.url, status: xhr.status });
      }
    });
    return send.apply(this, arguments);
  };

  post("location", null);
  window.addEventListener("hashchange", function () { post("location", null); });
  window.addEventListener("popstate", function () { post("location", null); });
})();

// The studio's pages, in plain JavaScript: local times everywhere, and on an app's workspace
// the chat (a turn's live events over SSE, Stop, ratings), the preview (reloaded on each new
// version; what its capture script reports is kept for a bug report), history (diffs,
// restore), the security panel (polled while its checks run) and the bug report form.
// Every POST carries the page's CSRF token in the X-CSRF-Token header.
(function () {
  "use strict";
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";
  const MAX_CAPTURED = 50;

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach((t) => {
      const d = new Date(t.dateTime);
      if (isNaN(d)) return;
      t.title = t.textContent;
      t.textContent = d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    });
  }
  localTimes(document);

  const ws = document.getElementById("workspace");
  if (!ws) return;

  const appId = ws.dataset.app;
  const previewOrigin = ws.dataset.previewOrigin;
  let previewUrl = ws.dataset.previewUrl;
  let headVersion = ws.dataset.head; // the AppVersion id now live
  let headNumber = ws.dataset.headNumber;
  const $ = (id) => document.getElementById(id);
  const chat = $("chat"), history = $("history"), security = $("security"), flags = $("flags"), diffBox = $("diff");
  const form = $("prompt-form"), stopButton = $("stop-button"), sendButton = $("send-button");
  const iframe = $("preview"), flagForm = $("flag-form");

  async function api(method, path, body) {
    const headers = { "X-CSRF-Token": csrf, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) throw new Error((data && data.error) || "the studio answered " + res.status);
    return data;
  }

  async function swap(part, el) {
    const res = await fetch("/apps/" + appId + "/parts/" + part);
    if (!res.ok) return;
    el.innerHTML = await res.text();
    localTimes(el);
  }

  function showMessage(el, text) {
    el.textContent = text;
    el.hidden = !text;
  }

  function toast(text) {
    const el = document.createElement("div");
    el.className = "toast";
    el.setAttribute("role", "alert");
    el.textContent = text;
    document.body.appendChild(el);
    setTimeout(() => el.remove(), 6000);
  }

  // -- tabs ------------------------------------------------------------------------------------
  const tabs = ws.querySelectorAll("[data-tab]");
  function showTab(name) {
    tabs.forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === name)));
    ["preview", "history", "security", "flag"].forEach((n) => { $("tab-" + n).hidden = n !== name; });
  }
  tabs.forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  if (["#history", "#security", "#flag"].includes(location.hash)) showTab(location.hash.slice(1));

  // -- the preview and what it reports -------------------------------------------------------
  const captured = { console: [], requests: [], url: "/" };

  function renderCaptured() {
    $("preview-path").textContent = captured.url;
    $("cap-url").textContent = captured.url;
    $("cap-version").textContent = headNumber ? "v" + headNumber : "none yet";
    fill($("cap-console"), captured.console.map((t) => t));
    fill($("cap-requests"), captured.requests.map((r) => r.method + " " + r.url + " → " + (r.status || "network error")));
    $("cap-console-count").textContent = captured.console.length;
    $("cap-requests-count").textContent = captured.requests.length;
  }

  function fill(list, items) {
    list.replaceChildren();
    if (!items.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "none";
      list.appendChild(li);
    }
    items.forEach((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      list.appendChild(li);
    });
  }

  function reloadPreview(clear) {
    if (!previewUrl) return;
    if (clear) {
      captured.console = [];
      captured.requests = [];
      captured.url = "/";
    }
    renderCaptured();
    iframe.hidden = false;
    $("preview-empty").hidden = true;
    $("preview-open").href = previewUrl;
    $("preview-open").hidden = false;
    $("preview-admin").hidden = false;
    iframe.src = previewUrl; // setting src navigates again, even to the same URL
  }

  window.addEventListener("message", (e) => {
    // Only the preview frame, from the preview origin. Its page is the generated app, so the
    // data is untrusted: it is shown as text and checked again by the studio when sent.
    if (e.origin !== previewOrigin || e.source !== iframe.contentWindow) return;
    const m = e.data;
    if (!m || m.awCapture !== 1) return;
    if (typeof m.location === "string") captured.url = m.location.slice(0, 2000);
    if (m.kind === "console" && typeof m.data === "string" && captured.console.length < MAX_CAPTURED) {
      captured.console.push(m.data.slice(0, 2000));
    }
    if (m.kind === "request" && m.data && typeof m.data.url === "string" && captured.requests.length < MAX_CAPTURED) {
      captured.requests.push({
        method: String(m.data.method || "GET").slice(0, 16),
        url: m.data.url.slice(0, 2000),
        status: Math.max(0, Math.min(999, Number(m.data.status) || 0)),
      });
    }
    renderCaptured();
  });

  $("preview-reload").addEventListener("click", () => reloadPreview(false));
  $("preview-admin").addEventListener("click", async () => {
    // The owner is the app's admin: a one-time link signs the preview in, then shows the app.
    try {
      const { url } = await api("POST", "/api/apps/" + appId + "/preview/admin");
      iframe.src = url;
    } catch (e) {
      toast(e.message);
    }
  });

  // -- after a turn or a restore: fragments, the head, the preview -------------------------------
  async function refresh() {
    const state = await api("GET", "/api/apps/" + appId + "/state");
    $("app-name").textContent = state.name;
    await Promise.all([swap("chat", chat), swap("history", history), swap("security", security)]);
    $("history-count").textContent = history.querySelectorAll("[data-version]").length;
    if (state.preview_url) previewUrl = state.preview_url;
    if (state.head && String(state.head.id) !== String(headVersion)) {
      headVersion = String(state.head.id);
      headNumber = String(state.head.number);
      $("preview-version").textContent = "v" + headNumber;
      reloadPreview(true);
    }
    watchSecurity();
    chat.scrollTop = chat.scrollHeight;
  }

  let securityTimer = null;
  function watchSecurity() {
    const box = security.querySelector(".security");
    const status = box ? box.dataset.status : "none";
    const failing = !!security.querySelector(".grade-summary.bad");
    $("security-dot").className = "dot dot-" + status + (failing ? " dot-fail" : "");
    if ((status === "queued" || status === "running") && !securityTimer) {
      securityTimer = setTimeout(async () => {
        securityTimer = null;
        await swap("security", security);
        watchSecurity();
      }, 1500);
    }
  }

  // -- the chat: start a turn, follow it live, stop it, rate it ---------------------------------
  let running = null; // the turn id being followed
  function setRunning(turnId) {
    running = turnId;
    stopButton.hidden = !turnId;
    sendButton.disabled = !!turnId;
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    showMessage($("prompt-error"), "");
    try {
      const r = await api("POST", "/api/apps/" + appId + "/turns", { prompt: form.prompt.value, model: form.model.value });
      form.prompt.value = "";
      await swap("chat", chat);
      follow(r.turn.id);
    } catch (err) {
      showMessage($("prompt-error"), err.message);
    }
  });
  form.prompt.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) form.requestSubmit();
  });
  stopButton.addEventListener("click", async () => {
    if (!running) return;
    stopButton.disabled = true;
    try {
      await api("POST", "/api/apps/" + appId + "/turns/" + running + "/stop");
    } catch (err) {
      showMessage($("prompt-error"), err.message);
    } finally {
      stopButton.disabled = false;
    }
  });

  function follow(turnId) {
    setRunning(turnId);
    const el = $("turn-" + turnId);
    const steps = el && el.querySelector("[data-live]");
    const stream = el && el.querySelector("[data-stream]");
    chat.scrollTop = chat.scrollHeight;
    const note = (text, cls) => {
      if (!steps) return;
      const li = document.createElement("li");
      li.textContent = text;
      li.className = cls || "";
      steps.appendChild(li);
      chat.scrollTop = chat.scrollHeight;
    };
    const data = (e) => JSON.parse(e.data);
    // EventSource reconnects by itself after a dropped connection, sending Last-Event-ID.
    const source = new EventSource("/api/apps/" + appId + "/turns/" + turnId + "/events");
    source.addEventListener("status", (e) => note(data(e).text, "info"));
    source.addEventListener("step", (e) => {
      const step = data(e).step;
      note(step === 1 ? "Writing the app…" : "Step " + step + ": answering the check…", "info");
      if (stream) stream.textContent = "";
    });
    source.addEventListener("token", (e) => {
      if (!stream) return;
      stream.hidden = false;
      stream.textContent += data(e).text;
      stream.scrollTop = stream.scrollHeight;
    });
    const result = (e) => { const d = data(e); note(d.text.split("\n")[0], d.ok ? "ok" : "bad"); };
    source.addEventListener("file", result);
    source.addEventListener("tool", result);
    source.addEventListener("check", (e) => {
      const d = data(e);
      note(d.ok ? "Checks passed" : "The checks found problems", d.ok ? "ok" : "bad");
    });
    source.addEventListener("done", async () => {
      source.close();
      setRunning(null);
      await refresh();
    });
  }

  chat.addEventListener("click", async (e) => {
    const b = e.target.closest("[data-rate]");
    if (!b) return;
    const turn = b.closest("[data-turn]").dataset.turn;
    try {
      const r = await api("POST", "/api/apps/" + appId + "/turns/" + turn + "/rating", { value: Number(b.dataset.rate) });
      b.parentElement.querySelectorAll("[data-rate]").forEach((x) => {
        x.setAttribute("aria-pressed", String(Number(x.dataset.rate) === r.rating));
      });
    } catch (err) {
      toast(err.message);
    }
  });

  // -- history: diffs and restore -----------------------------------------------------------------
  history.addEventListener("click", async (e) => {
    const diffButton = e.target.closest("[data-diff]");
    const restoreButton = e.target.closest("[data-restore]");
    if (diffButton) {
      const res = await fetch("/apps/" + appId + "/versions/" + diffButton.dataset.diff + "/diff");
      diffBox.innerHTML = await res.text();
      diffBox.hidden = false;
      diffBox.scrollIntoView({ block: "nearest" });
    } else if (restoreButton) {
      const n = restoreButton.dataset.number;
      if (!confirm("Restore v" + n + "? Its files and its data come back; what you have now stays in the history.")) return;
      restoreButton.disabled = true;
      try {
        await api("POST", "/api/apps/" + appId + "/versions/" + restoreButton.dataset.restore + "/restore");
        diffBox.hidden = true;
        await refresh();
        showTab("preview"); // what a restore is for: seeing that version again
      } catch (err) {
        restoreButton.disabled = false;
        toast(err.message);
      }
    }
  });
  diffBox.addEventListener("click", (e) => {
    if (e.target.closest("[data-close-diff]")) diffBox.hidden = true;
  });

  // -- report a bug -------------------------------------------------------------------------------
  flagForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    showMessage($("flag-error"), "");
    showMessage($("flag-ok"), "");
    try {
      await api("POST", "/api/apps/" + appId + "/flags", {
        description: flagForm.description.value,
        version: headVersion ? Number(headVersion) : null,
        url: captured.url,
        console_errors: captured.console,
        failed_requests: captured.requests,
      });
      flagForm.description.value = "";
      showMessage($("flag-ok"), "Thank you: your report was saved with v" + headNumber + ".");
      await swap("flags", flags);
    } catch (err) {
      showMessage($("flag-error"), err.message);
    }
  });

  // -- on load ------------------------------------------------------------------------------------
  renderCaptured();
  watchSecurity();
  chat.scrollTop = chat.scrollHeight;
  if (ws.dataset.running) follow(Number(ws.dataset.running));
})();

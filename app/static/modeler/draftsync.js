// Keeps an editor's content in step with the server draft: loads it, autosaves every few
// seconds while there are changes, and keeps a copy of unsaved work in this browser's
// localStorage so a closed tab, a lost connection or an expired login never loses it.
// A save over someone else's newer save is refused by the server (409): the editor stops
// autosaving and says so; the local copy stays. After an expired login the manager logs in
// again in another tab; the next save (the autosave, or the button) first takes that new
// session's CSRF token from the draft endpoint, then saves.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function setCsrfToken(token) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && token) meta.content = token;
  }

  function messages() {
    var node = document.getElementById("modeler-messages");
    return node ? JSON.parse(node.textContent) : {};
  }

  // "session expired": a redirect to the login page, or anything that is not our JSON.
  function expired(response) {
    if (response.type === "opaqueredirect" || response.status === 0 || response.status === 401) return true;
    var type = response.headers.get("content-type") || "";
    return type.indexOf("application/json") < 0;
  }

  function requestJSON(url, body) {
    var init = { credentials: "same-origin", redirect: "manual", headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRFToken"] = csrfToken();
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      if (expired(response)) return { expired: true, status: response.status };
      return response.json().then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
    });
  }

  function DraftSync(opts) {
    var M = messages();
    var state = { lock: null, dirty: false, saving: false, blocked: false, expired: false, seq: 0, serverText: null };
    var storeKey = "wuye-modeler:" + opts.key + ":" + opts.scope;
    var statusEl = opts.root.querySelector('[data-testid="save-status"]');
    var conflictEl = opts.root.querySelector('[data-testid="conflict"]');
    var localEl = opts.root.querySelector('[data-testid="local-copy"]');

    function status(text, tone) {
      if (!statusEl) return;
      statusEl.textContent = text;
      statusEl.className = "small " + (tone === "error" ? "text-danger" : tone === "ok" ? "text-success" : "text-muted");
    }

    function keepLocal(text) {
      try {
        localStorage.setItem(storeKey, JSON.stringify({ text: text, lock: state.lock, at: new Date().toISOString() }));
      } catch (e) { /* storage full or disabled: the server autosave still runs */ }
    }

    function forgetLocal() {
      try { localStorage.removeItem(storeKey); } catch (e) { /* ignore */ }
      if (localEl) localEl.classList.add("d-none");
    }

    function readLocal() {
      try { return JSON.parse(localStorage.getItem(storeKey) || "null"); } catch (e) { return null; }
    }

    function offerLocal(saved, draft) {
      if (!localEl) return;
      var when = new Date(saved.at).toLocaleString();
      var text = saved.lock === draft.lock_version ? M.local_copy : M.local_copy_older;
      localEl.querySelector('[data-role="local-copy-text"]').textContent = (text || "").replace("{time}", when);
      localEl.classList.remove("d-none");
      localEl.querySelector('[data-action="restore"]').onclick = function () {
        localEl.classList.add("d-none");
        opts.setContent(saved.text).then(function () { markDirty(); return saveNow(); });
      };
      localEl.querySelector('[data-action="forget"]').onclick = forgetLocal;
    }

    function load() {
      status(M.loading || "");
      return requestJSON(opts.draftUrl).then(function (r) {
        if (r.expired) { status(M.expired, "error"); throw new Error("expired"); }
        if (!r.ok) { status(r.data.message, "error"); throw new Error(r.data.message); }
        state.lock = r.data.lock_version;
        setCsrfToken(r.data.csrf_token);
        var text = opts.fromDraft(r.data);
        state.serverText = text;
        return opts.setContent(text).then(function () {
          status((M.saved_at || "") + " " + r.data.updated_at_local, "ok");
          var saved = readLocal();
          if (saved && saved.text && saved.text !== text) offerLocal(saved, r.data);
          else if (saved) forgetLocal();
          return r.data;
        });
      });
    }

    function markDirty() {
      state.seq += 1;
      state.dirty = true;
      if (!state.blocked) status(M.unsaved || "");
      opts.getContent().then(keepLocal);
    }

    // Logged in again since the last save found the login expired? Then take the new session's
    // CSRF token (the page's is the old session's); the draft itself is not reloaded.
    function renewLogin() {
      if (!state.expired) return Promise.resolve();
      return requestJSON(opts.draftUrl).then(function (r) {
        if (r.expired || !r.ok) throw new Error("expired");
        setCsrfToken(r.data.csrf_token);
        state.expired = false;
      });
    }

    function expiredNow() {
      state.expired = true;
      status(M.expired, "error");
      return new Error("expired");
    }

    function saveNow() {
      if (state.blocked) return Promise.reject(new Error("conflict"));
      if (!state.dirty) return Promise.resolve();
      if (state.saving) return state.saving;
      var seq = state.seq;
      status(M.saving || "");
      state.saving = renewLogin().then(opts.getContent, function (e) {
        throw e && e.name === "TypeError" ? e : expiredNow();  // no connection stays "offline"
      }).then(function (text) {
        var body = opts.payload(text);
        body.lock_version = state.lock;
        return requestJSON(opts.saveUrl, body).then(function (r) {
          if (r.expired) throw expiredNow();
          if (r.status === 409) {
            state.blocked = true;
            if (conflictEl) { conflictEl.textContent = r.data.message; conflictEl.classList.remove("d-none"); }
            status(M.not_saved || "", "error");
            throw new Error("conflict");
          }
          if (!r.ok) {
            var fields = r.data.fields || {};
            var detail = Object.keys(fields).map(function (k) { return fields[k]; }).join(" ");
            status(r.data.message + (detail ? " " + detail : ""), "error");
            throw new Error(r.data.message);
          }
          state.lock = r.data.lock_version;
          if (seq === state.seq) { state.dirty = false; forgetLocal(); }
          status((M.saved_at || "") + " " + r.data.updated_at_local, "ok");
          return r.data;
        });
      }, function (e) { throw e; });
      state.saving.catch(function (e) {
        if (e && e.name === "TypeError") status(M.offline, "error");  // fetch failed: no connection
      }).then(function () { state.saving = false; });
      return state.saving;
    }

    setInterval(function () {
      if (state.dirty && !state.saving && !state.blocked) saveNow().catch(function () { /* shown in the status */ });
    }, opts.interval || 4000);

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && state.dirty && !state.blocked) saveNow().catch(function () {});
    });

    return { load: load, markDirty: markDirty, saveNow: saveNow, requestJSON: requestJSON, state: state, messages: M };
  }

  window.WuyeDraftSync = DraftSync;
})();

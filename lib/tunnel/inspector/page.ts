/**
 * The request inspector's page, shipped inside datumctl as three strings (no build step, and
 * `deno compile` embeds them like any other module): the HTML shell, its script and its style.
 * The script renders every captured value with `textContent`, never as markup, because headers
 * and bodies come from whoever sent the request.
 */

/** The page: a filterable live list on the left, the selected request on the right. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>datumctl inspector</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>datumctl <span>inspector</span></h1>
  <div class="filters">
    <input id="filter-path" type="search" placeholder="Filter by path" aria-label="Filter by path" data-testid="filter-path">
    <select id="filter-method" aria-label="Method" data-testid="filter-method">
      <option value="">All methods</option>
      <option>GET</option><option>POST</option><option>PUT</option><option>PATCH</option>
      <option>DELETE</option><option>HEAD</option><option>OPTIONS</option><option>CONNECT</option>
    </select>
    <select id="filter-status" aria-label="Status" data-testid="filter-status">
      <option value="">All statuses</option>
      <option value="2">2xx</option><option value="3">3xx</option>
      <option value="4">4xx</option><option value="5">5xx</option>
      <option value="pending">pending</option>
    </select>
  </div>
  <div id="connection" class="connection" data-testid="connection">connecting…</div>
</header>
<main>
  <section class="list">
    <table>
      <thead><tr><th>Time</th><th>Method</th><th>Path</th><th>Status</th><th>Duration</th><th>Size</th></tr></thead>
      <tbody id="rows" data-testid="rows"></tbody>
    </table>
    <p id="empty" class="empty">No requests yet. Requests to your tunnel appear here as they arrive.</p>
  </section>
  <section id="detail" class="detail" data-testid="detail" hidden>
    <div class="detail-head">
      <h2 id="detail-title" data-testid="detail-title"></h2>
      <div class="actions">
        <button id="replay" type="button" data-testid="replay">Replay</button>
        <button id="edit" type="button" data-testid="edit" class="secondary">Edit &amp; replay</button>
        <button id="curl" type="button" data-testid="curl" class="secondary">Copy as curl</button>
      </div>
    </div>
    <p id="detail-meta" class="meta" data-testid="detail-meta"></p>
    <p id="notice" class="notice" data-testid="notice" hidden></p>
    <pre id="curl-text" class="curl" data-testid="curl-text" hidden></pre>
    <form id="editor" class="editor" data-testid="editor" hidden>
      <div class="row">
        <input id="edit-method" aria-label="Method" data-testid="edit-method">
        <input id="edit-path" aria-label="Path" data-testid="edit-path">
      </div>
      <label>Headers (one "Name: value" a line)<textarea id="edit-headers" rows="6" data-testid="edit-headers"></textarea></label>
      <label>Body<textarea id="edit-body" rows="6" data-testid="edit-body"></textarea></label>
      <div class="row"><button type="submit" data-testid="edit-send">Send replay</button><button type="button" id="edit-cancel" class="secondary">Cancel</button></div>
    </form>
    <h3>Request</h3>
    <table class="headers" id="request-headers" data-testid="request-headers"></table>
    <div class="body" id="request-body" data-testid="request-body"></div>
    <h3>Response</h3>
    <table class="headers" id="response-headers" data-testid="response-headers"></table>
    <div class="body" id="response-body" data-testid="response-body"></div>
  </section>
</main>
</body>
</html>
`;

/** The page's script: the live list (Server-Sent Events), filters, detail, replay and curl. */
export const PAGE_JS = `"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const requests = new Map();
  let selected = null;
  let current = null;

  const el = (tag, text, cls) => {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  };
  const size = (n) => n < 1024 ? n + " B" : n < 1048576 ? (n / 1024).toFixed(1) + " KiB" : (n / 1048576).toFixed(1) + " MiB";
  const time = (iso) => new Date(iso).toLocaleTimeString([], { hour12: false });
  const statusClass = (s) => s === null ? "pending" : "s" + String(s)[0];

  function matches(r) {
    const path = $("filter-path").value.trim().toLowerCase();
    const method = $("filter-method").value;
    const status = $("filter-status").value;
    if (path && !r.path.toLowerCase().includes(path)) return false;
    if (method && r.method !== method) return false;
    if (status === "pending" && r.status !== null) return false;
    if (status && status !== "pending" && String(r.status ?? "")[0] !== status) return false;
    return true;
  }

  function row(r) {
    const tr = el("tr");
    tr.dataset.id = r.id;
    tr.dataset.testid = "row";
    if (r.id === selected) tr.classList.add("selected");
    tr.append(el("td", time(r.time), "time"), el("td", r.method, "method"));
    const path = el("td", r.path, "path");
    if (r.replay_of !== null) path.prepend(el("span", "replay of #" + r.replay_of, "badge"));
    if (r.streamed) path.append(el("span", "streamed", "badge muted"));
    tr.append(path, el("td", r.status ?? "…", "status " + statusClass(r.status)));
    tr.append(el("td", r.duration_ms === null ? "" : r.duration_ms + " ms", "num"));
    tr.append(el("td", size(r.response_bytes), "num"));
    tr.addEventListener("click", () => select(r.id));
    return tr;
  }

  function renderList() {
    const rows = $("rows");
    const shown = [...requests.values()].filter(matches).sort((a, b) => b.id - a.id);
    rows.replaceChildren(...shown.map(row));
    $("empty").hidden = requests.size > 0;
  }

  function headerTable(table, headers) {
    table.replaceChildren(...headers.map((h) => {
      const tr = el("tr");
      tr.append(el("th", h.name), el("td", h.value, h.masked ? "masked" : ""));
      return tr;
    }));
  }

  function bodyView(box, body, streamed) {
    box.replaceChildren();
    if (body.size === 0) {
      box.append(el("p", "No body", "muted"));
      return;
    }
    const notes = [];
    if (body.truncated) notes.push("first " + size(body.encoding === "text" ? new TextEncoder().encode(body.text).length : atob(body.base64).length) + " of " + size(body.size) + " shown");
    if (streamed) notes.push("streamed: the first chunk is kept");
    if (body.encoding === "binary") {
      box.append(el("p", "Binary body, " + size(body.size), "muted"));
    } else {
      let text = body.text;
      if (body.json) text = JSON.stringify(JSON.parse(text), null, 2);
      box.append(el("pre", text));
    }
    if (notes.length) box.append(el("p", notes.join("; "), "muted"));
  }

  function curlOf(r) {
    const q = (s) => "'" + String(s).replace(/'/g, "'\\\\''") + "'";
    const parts = ["curl", "-X", r.method, q("http://" + (r.target || "localhost") + r.path)];
    for (const h of r.request.headers) {
      if (["content-length", "connection", "transfer-encoding"].includes(h.name)) continue;
      parts.push("-H", q(h.name + ": " + h.value));
    }
    const body = r.request.body;
    if (body.size > 0 && body.encoding === "text") parts.push("--data-binary", q(body.text));
    return parts.join(" ");
  }

  async function api(path, options) {
    const res = await fetch(path, { credentials: "same-origin", ...options });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || ("HTTP " + res.status));
    return data;
  }

  function notice(text, bad) {
    const n = $("notice");
    n.textContent = text;
    n.hidden = !text;
    n.classList.toggle("bad", !!bad);
  }

  async function select(id) {
    selected = id;
    renderList();
    let r;
    try {
      r = await api("/api/requests/" + id);
    } catch (err) {
      notice(err.message, true);
      return;
    }
    if (selected !== id) return;
    current = r;
    $("detail").hidden = false;
    $("editor").hidden = true;
    $("curl-text").hidden = true;
    notice("");
    $("detail-title").textContent = r.method + " " + r.path;
    const meta = [
      "#" + r.id,
      r.status === null ? "pending" : "status " + r.status,
      r.duration_ms === null ? "" : r.duration_ms + " ms",
      size(r.request_bytes) + " in, " + size(r.response_bytes) + " out",
      r.replay_of !== null ? "replay of #" + r.replay_of : "from " + r.peer.slice(0, 12) + "…",
      r.target ? "origin " + r.target : "",
      r.error || "",
    ].filter(Boolean);
    $("detail-meta").textContent = meta.join(" · ");
    headerTable($("request-headers"), r.request.headers);
    headerTable($("response-headers"), r.response.headers);
    bodyView($("request-body"), r.request.body, r.streamed);
    bodyView($("response-body"), r.response.body, r.streamed);
    const replayable = r.kind === "http" && r.target;
    $("replay").disabled = !replayable;
    $("edit").disabled = !replayable;
  }

  async function replay(edits) {
    if (!current) return;
    notice("Replaying…");
    try {
      const r = await api("/api/requests/" + current.id + "/replay", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(edits || {}),
      });
      requests.set(r.id, r);
      await select(r.id);
      notice("Replayed as #" + r.id + ": status " + r.status);
    } catch (err) {
      notice("Replay failed: " + err.message, true);
    }
  }

  $("replay").addEventListener("click", () => replay());
  $("edit").addEventListener("click", () => {
    if (!current) return;
    $("edit-method").value = current.method;
    $("edit-path").value = current.path;
    $("edit-headers").value = current.request.headers.map((h) => h.name + ": " + h.value).join("\\n");
    const body = current.request.body;
    $("edit-body").value = body.encoding === "text" ? body.text || "" : "";
    $("editor").hidden = false;
  });
  $("edit-cancel").addEventListener("click", () => ($("editor").hidden = true));
  $("editor").addEventListener("submit", (event) => {
    event.preventDefault();
    const headers = $("edit-headers").value.split("\\n").map((l) => l.trim()).filter(Boolean).map((l) => {
      const i = l.indexOf(":");
      return { name: l.slice(0, i).trim(), value: l.slice(i + 1).trim() };
    }).filter((h) => h.name && !["content-length"].includes(h.name.toLowerCase()));
    replay({ method: $("edit-method").value.trim(), path: $("edit-path").value.trim(), headers, body: $("edit-body").value });
  });
  $("curl").addEventListener("click", async () => {
    if (!current) return;
    const text = curlOf(current);
    const pre = $("curl-text");
    pre.textContent = text;
    pre.hidden = false;
    try {
      await navigator.clipboard.writeText(text);
      notice("Copied to the clipboard.");
    } catch {
      notice("Select the command below to copy it.");
    }
  });
  for (const id of ["filter-path", "filter-method", "filter-status"]) {
    $(id).addEventListener("input", renderList);
  }

  const events = new EventSource("/api/events");
  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; renderList(); });
  };
  events.addEventListener("open", () => { $("connection").textContent = "live"; $("connection").className = "connection live"; });
  events.addEventListener("error", () => { $("connection").textContent = "reconnecting…"; $("connection").className = "connection"; });
  events.addEventListener("request", (event) => {
    const r = JSON.parse(event.data);
    requests.set(r.id, r);
    schedule();
    if (r.id === selected && r.done && current && !current.done) select(r.id);
  });
  events.addEventListener("kept", (event) => {
    const from = JSON.parse(event.data).from;
    for (const id of [...requests.keys()]) if (id < from) requests.delete(id);
    schedule();
  });
})();
`;

/** The page's style. */
export const PAGE_CSS =
  `:root { color-scheme: light dark; --bg: #fbfbfa; --fg: #1d1d1f; --muted: #6b6b70; --line: #e3e3e0; --accent: #4f46e5; --sel: #eef0ff; }
@media (prefers-color-scheme: dark) { :root { --bg: #17171a; --fg: #ececee; --muted: #9a9aa2; --line: #2c2c31; --accent: #8b87ff; --sel: #25254a; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; gap: 16px; align-items: center; padding: 10px 16px; border-bottom: 1px solid var(--line); }
h1 { font-size: 16px; margin: 0; white-space: nowrap; } h1 span { color: var(--accent); }
.filters { display: flex; gap: 8px; flex: 1; }
input, select, textarea, button { font: inherit; color: inherit; background: transparent; border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; }
#filter-path { flex: 1; max-width: 420px; }
button { cursor: pointer; background: var(--accent); color: white; border-color: var(--accent); }
button:disabled { opacity: .4; cursor: default; }
button.secondary { background: transparent; color: var(--fg); border-color: var(--line); }
.connection { color: var(--muted); font-size: 12px; } .connection.live::before { content: "● "; color: #16a34a; }
main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); height: calc(100vh - 53px); }
.list { overflow: auto; border-right: 1px solid var(--line); }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { position: sticky; top: 0; background: var(--bg); color: var(--muted); font-weight: 500; font-size: 12px; }
#rows tr { cursor: pointer; } #rows tr:hover { background: var(--sel); } #rows tr.selected { background: var(--sel); box-shadow: inset 3px 0 var(--accent); }
td.path { font-family: ui-monospace, monospace; word-break: break-all; }
td.method { font-weight: 600; } td.num, td.time { white-space: nowrap; color: var(--muted); }
.status.s2 { color: #16a34a; } .status.s3 { color: #0891b2; } .status.s4 { color: #d97706; } .status.s5 { color: #dc2626; } .status.pending { color: var(--muted); }
.badge { display: inline-block; font: 11px system-ui; background: var(--accent); color: white; border-radius: 4px; padding: 0 5px; margin: 0 6px 0 0; }
.badge.muted { background: var(--line); color: var(--muted); margin: 0 0 0 6px; }
.empty { color: var(--muted); padding: 24px; text-align: center; }
.detail { overflow: auto; padding: 12px 16px; }
.detail-head { display: flex; justify-content: space-between; gap: 12px; align-items: center; }
.detail-head h2 { font: 600 15px ui-monospace, monospace; margin: 0; word-break: break-all; }
.actions { display: flex; gap: 6px; flex-shrink: 0; }
.meta, .muted { color: var(--muted); }
h3 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 18px 0 6px; }
table.headers th { width: 30%; font: 12px ui-monospace, monospace; color: var(--muted); }
table.headers td { font: 12px ui-monospace, monospace; word-break: break-all; }
td.masked { color: var(--muted); font-style: italic; }
pre { font: 12px/1.45 ui-monospace, monospace; background: var(--sel); padding: 10px; border-radius: 6px; overflow: auto; max-height: 40vh; white-space: pre-wrap; word-break: break-all; }
.notice { padding: 6px 10px; border-radius: 6px; background: var(--sel); } .notice.bad { background: #fde2e2; color: #7f1d1d; }
.editor { display: grid; gap: 8px; margin: 10px 0; } .editor .row { display: flex; gap: 8px; } .editor label { display: grid; gap: 4px; color: var(--muted); font-size: 12px; }
#edit-method { width: 110px; } #edit-path { flex: 1; } textarea { font: 12px ui-monospace, monospace; }
`;

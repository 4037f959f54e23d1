/**
 * The simulator's phone page (`GET /`): be a simulated WhatsApp user, chat with a business
 * number live, review submitted templates, watch webhooks and change knobs. One self-contained
 * HTML document (no external assets); it reads `/_sim/state` whenever `/_sim/events` says
 * something changed.
 */
export const PHONE_PAGE = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WhatsApp simulator</title>
<style>
  :root { --green:#075e54; --light:#dcf8c6; --bg:#ece5dd; --line:#d6d6d6; font-family: system-ui, sans-serif; }
  * { box-sizing: border-box; }
  body { margin:0; background:#f4f4f4; color:#111; }
  header { background:var(--green); color:#fff; padding:10px 16px; display:flex; gap:16px; align-items:baseline; }
  header h1 { font-size:18px; margin:0; }
  header small { opacity:.8; }
  main { display:grid; grid-template-columns: 260px minmax(320px, 1fr) 380px; gap:12px; padding:12px; height: calc(100vh - 46px); }
  section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px; overflow:auto; }
  h2 { font-size:14px; margin:4px 0 8px; text-transform:uppercase; letter-spacing:.04em; color:#555; }
  label { display:block; font-size:13px; margin:8px 0 2px; }
  select, input, textarea, button { font:inherit; font-size:14px; }
  select, input, textarea { width:100%; padding:6px; border:1px solid #bbb; border-radius:4px; }
  button { padding:6px 10px; border:1px solid #888; border-radius:4px; background:#fafafa; cursor:pointer; }
  button.primary { background:var(--green); color:#fff; border-color:var(--green); }
  .row { display:flex; gap:6px; align-items:center; }
  .row > * { flex:1; }
  .row > button { flex:0 0 auto; }
  #chat { display:flex; flex-direction:column; padding:0; }
  #messages { flex:1; overflow:auto; background:var(--bg); padding:12px; display:flex; flex-direction:column; gap:6px; }
  .bubble { max-width:75%; padding:6px 9px; border-radius:8px; background:#fff; white-space:pre-wrap; word-break:break-word; box-shadow:0 1px 1px rgba(0,0,0,.1); }
  .bubble.mine { align-self:flex-end; background:var(--light); }
  .bubble .meta { font-size:11px; color:#667; margin-top:3px; text-align:right; }
  .bubble .tpl { font-size:11px; color:#075e54; font-weight:600; }
  .failed { color:#b00020; }
  .read { color:#34b7f1; }
  #composer { border-top:1px solid var(--line); padding:8px; }
  table { width:100%; border-collapse:collapse; font-size:12px; }
  td, th { border-bottom:1px solid #eee; padding:4px; text-align:left; vertical-align:top; }
  .pill { display:inline-block; padding:1px 6px; border-radius:10px; background:#eee; font-size:11px; }
  .pill.APPROVED, .pill.delivered { background:#d4f5d4; }
  .pill.REJECTED, .pill.failed, .pill.dropped { background:#f8d0d0; }
  .pill.PENDING, .pill.pending, .pill.held { background:#fff0c0; }
  .empty { color:#888; font-size:13px; padding:8px; }
  details { margin-top:10px; }
  /* Phones and narrow windows: one column, nothing wider than the screen. */
  @media (max-width: 900px) {
    header { flex-wrap:wrap; gap:4px 16px; }
    header small { overflow-wrap:anywhere; }
    main { grid-template-columns: minmax(0, 1fr); height:auto; }
    #chat { height:70vh; min-height:320px; }
    section { min-width:0; }
    td, th { overflow-wrap:anywhere; }
  }
</style>
</head>
<body>
<header><h1>WhatsApp simulator</h1><small id="where"></small></header>
<main>
  <section aria-labelledby="who-h">
    <h2 id="who-h">Phone</h2>
    <label for="user">You are (simulated user)</label>
    <select id="user"></select>
    <div class="row" style="margin-top:6px">
      <input id="new-number" placeholder="34600111222" aria-label="New user's number">
      <input id="new-name" placeholder="Name" aria-label="New user's name">
    </div>
    <button id="add-user" style="margin-top:6px">Use this number</button>
    <label for="business">Chatting with (business number)</label>
    <select id="business"></select>
    <p id="window" class="empty"></p>
    <div id="marketing-box" hidden>
      <button id="marketing" type="button"></button>
      <p id="marketing-state" class="empty"></p>
    </div>
    <h2 style="margin-top:16px">Numbers</h2>
    <div id="numbers"></div>
  </section>
  <section id="chat" aria-label="Chat">
    <div id="messages" aria-live="polite"></div>
    <form id="composer">
      <div class="row">
        <select id="type" aria-label="Message type" style="flex:0 0 110px">
          <option value="text">Text</option>
          <option value="image">Image</option>
          <option value="location">Location</option>
          <option value="button">Button reply</option>
        </select>
        <input id="text" placeholder="Write a message" aria-label="Message" autocomplete="off">
        <button class="primary" type="submit">Send</button>
      </div>
      <label style="display:flex; gap:6px; align-items:center; margin-top:6px; font-size:13px">
        <input id="bsuid-only" type="checkbox" style="width:auto">
        Hide my number (Cloud API: the webhook names me by my business-scoped user id only)
      </label>
    </form>
  </section>
  <section aria-label="Templates, webhooks and knobs">
    <h2>Templates</h2>
    <div id="templates"></div>
    <h2 style="margin-top:16px">Webhooks</h2>
    <div id="webhooks"></div>
    <details>
      <summary>Knobs</summary>
      <textarea id="knobs" rows="14" aria-label="Knobs JSON"></textarea>
      <button id="save-knobs" style="margin-top:6px">Apply knobs</button>
    </details>
  </section>
</main>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  let state = null;
  let chosenUser = localStorage.getItem("sim.user") || "";
  let chosenBusiness = localStorage.getItem("sim.business") || "";
  let knobsDirty = false;
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const time = (ms) => new Date(ms).toLocaleTimeString();
  const post = async (path, body) => {
    const res = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body ?? {}) });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) alert(json.error || ("HTTP " + res.status));
    return json;
  };

  function businesses() {
    if (!state) return [];
    return [
      ...state.config.cloud.map((n) => ({ key: n.phoneNumberId, label: "Cloud +" + n.displayNumber + " (" + n.phoneNumberId + ")" })),
      ...state.config.waha.map((s) => ({ key: s.session, label: "WAHA " + s.session + " (" + (s.status || "WORKING") + ")" })),
    ];
  }

  function fillSelect(select, options, chosen) {
    const html = options.map((o) => '<option value="' + esc(o.key) + '"' + (o.key === chosen ? " selected" : "") + ">" + esc(o.label) + "</option>").join("");
    if (select.innerHTML !== html) select.innerHTML = html;
  }

  function render() {
    $("where").textContent = state.url + "  ·  Graph API " + state.url + "/v23.0  ·  WAHA " + state.url + "/api";
    const users = state.users.map((u) => ({ key: u.number, label: u.name + " +" + u.number }));
    if (chosenUser && !users.some((u) => u.key === chosenUser)) users.unshift({ key: chosenUser, label: "+" + chosenUser + " (new)" });
    if (!chosenUser && users[0]) chosenUser = users[0].key;
    fillSelect($("user"), users, chosenUser);
    const bs = businesses();
    if (!bs.some((b) => b.key === chosenBusiness)) chosenBusiness = bs[0] ? bs[0].key : "";
    fillSelect($("business"), bs, chosenBusiness);

    $("numbers").innerHTML = bs.length ? bs.map((b) => '<div class="empty">' + esc(b.label) + "</div>").join("") : '<p class="empty">No numbers configured: POST /_sim/config.</p>';

    const user = state.users.find((u) => u.number === chosenUser);
    const wrote = user && user.lastWrote[chosenBusiness];
    const open = wrote && wrote > Date.now() - state.knobs.windowHours * 3600000;
    $("window").textContent = !chosenUser ? "" : open ? "Customer-service window open until " + new Date(wrote + state.knobs.windowHours * 3600000).toLocaleString() : "Window closed: the business can only send templates.";

    // WhatsApp's own "stop marketing messages" control, per business number (Cloud API only).
    const cloudNumber = state.config.cloud.some((n) => n.phoneNumberId === chosenBusiness);
    const stoppedAt = user && user.marketingStopped && user.marketingStopped[chosenBusiness];
    $("marketing-box").hidden = !chosenUser || !cloudNumber;
    $("marketing").textContent = stoppedAt ? "Resume marketing messages" : "Stop marketing messages";
    $("marketing-state").textContent = stoppedAt ? "Marketing messages stopped since " + new Date(stoppedAt).toLocaleString() + ": marketing templates fail with 131050." : "";

    const list = state.messages.filter((m) => m.user === chosenUser && m.business === chosenBusiness);
    const box = $("messages");
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 20;
    box.innerHTML = list.length ? list.map((m) => {
      const mine = m.direction === "in";
      const status = mine ? "" : ' · <span class="' + esc(m.status) + '">' + esc(m.status) + (m.error ? " (" + esc(m.error.code) + " " + esc(m.error.title) + ")" : "") + "</span>";
      const tpl = m.template ? '<div class="tpl">template ' + esc(m.template.name) + " · " + esc(m.template.category) + (m.pricing && m.pricing.billable ? " · $" + m.pricing.priceUsd : "") + "</div>" : "";
      return '<div class="bubble' + (mine ? " mine" : "") + '">' + tpl + esc(m.text || "[" + m.type + "]") + '<div class="meta">' + time(m.at) + status + "</div></div>";
    }).join("") : '<p class="empty">No messages yet. Write something, or send from Switchboard.</p>';
    if (atBottom) box.scrollTop = box.scrollHeight;

    const templates = state.templates.slice().sort((a, b) => (a.status === "PENDING" ? -1 : 0) - (b.status === "PENDING" ? -1 : 0) || b.createdAt - a.createdAt);
    $("templates").innerHTML = templates.length ? "<table><tr><th>Name</th><th>Status</th><th></th></tr>" + templates.map((t) =>
      "<tr><td>" + esc(t.name) + " <small>" + esc(t.language) + " · " + esc(t.category) + "</small></td><td><span class=\\"pill " + esc(t.status) + "\\">" + esc(t.status) + "</span></td><td>" +
      (t.status === "PENDING" ? '<button data-approve="' + esc(t.id) + '">Approve</button> <button data-reject="' + esc(t.id) + '">Reject</button>' : "") + "</td></tr>").join("") + "</table>"
      : '<p class="empty">No templates.</p>';

    const hooks = state.webhooks.slice(-15).reverse();
    $("webhooks").innerHTML = hooks.length ? "<table><tr><th>When</th><th>Kind</th><th>State</th></tr>" + hooks.map((w) =>
      "<tr><td>" + time(w.createdAt) + "</td><td>" + esc(w.provider) + " " + esc(w.kind) + (w.duplicate ? " (dup)" : "") + '</td><td><span class="pill ' + esc(w.state) + '">' + esc(w.state) + "</span> " + esc(w.responseStatus || w.error || "") + "</td></tr>").join("") + "</table>"
      : '<p class="empty">None sent yet.</p>';

    if (!knobsDirty) $("knobs").value = JSON.stringify(state.knobs, null, 2);
  }

  async function refresh() {
    const res = await fetch("/_sim/state");
    state = await res.json();
    render();
  }

  $("user").addEventListener("change", (e) => { chosenUser = e.target.value; localStorage.setItem("sim.user", chosenUser); render(); });
  $("business").addEventListener("change", (e) => { chosenBusiness = e.target.value; localStorage.setItem("sim.business", chosenBusiness); render(); });
  $("add-user").addEventListener("click", () => {
    const number = $("new-number").value.replace(/[^0-9]/g, "");
    if (number.length < 7) return alert("A number has 7–15 digits, with the country code");
    chosenUser = number;
    localStorage.setItem("sim.user", number);
    sessionStorage.setItem("sim.name." + number, $("new-name").value.trim());
    render();
  });
  $("composer").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!chosenUser || !chosenBusiness) return alert("Pick a user and a business number first");
    const type = $("type").value;
    const text = $("text").value.trim();
    const body = { to: chosenBusiness, type, name: sessionStorage.getItem("sim.name." + chosenUser) || undefined, bsuidOnly: $("bsuid-only").checked || undefined };
    if (type === "text") { if (!text) return; body.text = text; }
    if (type === "image") body.caption = text || undefined;
    if (type === "location") body.locationName = text || undefined;
    if (type === "button") { body.title = text || "Yes"; body.payload = text || "Yes"; }
    await post("/_sim/users/" + chosenUser + "/messages", body);
    $("text").value = "";
  });
  $("marketing").addEventListener("click", async () => {
    if (!chosenUser || !chosenBusiness) return;
    const user = state.users.find((u) => u.number === chosenUser);
    const stopped = user && user.marketingStopped && user.marketingStopped[chosenBusiness];
    await post("/_sim/users/" + chosenUser + "/marketing", { to: chosenBusiness, value: stopped ? "resume" : "stop", name: sessionStorage.getItem("sim.name." + chosenUser) || undefined, bsuidOnly: $("bsuid-only").checked || undefined });
  });
  document.body.addEventListener("click", async (e) => {
    const approve = e.target.getAttribute && e.target.getAttribute("data-approve");
    const reject = e.target.getAttribute && e.target.getAttribute("data-reject");
    if (approve) await post("/_sim/templates/" + approve + "/status", { event: "APPROVED" });
    if (reject) {
      const reason = prompt("Reason (INVALID_FORMAT, ABUSIVE_CONTENT, INCORRECT_CATEGORY, …)", "INVALID_FORMAT");
      if (reason !== null) await post("/_sim/templates/" + reject + "/status", { event: "REJECTED", reason });
    }
  });
  $("knobs").addEventListener("input", () => { knobsDirty = true; });
  $("save-knobs").addEventListener("click", async () => {
    let knobs;
    try { knobs = JSON.parse($("knobs").value); } catch (err) { return alert("Knobs are not valid JSON: " + err.message); }
    await post("/_sim/knobs", knobs);
    knobsDirty = false;
    refresh();
  });

  refresh();
  let poll = null;
  const events = new EventSource("/_sim/events");
  events.onmessage = () => refresh();
  events.onerror = () => { if (!poll) poll = setInterval(refresh, 2000); };
  events.onopen = () => { if (poll) { clearInterval(poll); poll = null; } };
})();
</script>
</body>
</html>
`;

// cafchat's web console: chat, the cluster and the protocol, live.
// One WebSocket to the gateway (docs/web.md has the message format). No
// library, nothing fetched from anywhere else.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const ROW = 22;               // px per chat row (virtual list)
  const EVENTS_MAX = 4000;      // protocol events kept in the page
  const DIAGRAM_ROWS = 36;      // events drawn at once

  // Everything the page knows; window.cafchat lets scripts and tests read it.
  const S = {
    ws: null, connected: false, welcome: null, operator: false,
    name: "", client: null, server: 0,
    entries: [],                // history entries, by index order
    byIndex: new Map(),
    pending: [],                // own messages not yet in the history
    acked: 0,                   // highest own seq acknowledged
    historyTotal: 0,
    cluster: null, clusterAt: 0,
    events: [],                 // protocol events (objects)
    paused: false, shownUpTo: 0, // index into events the diagram shows up to when paused
    slotFilter: null,
    follow: { armed: false, ref: 0, seq: 0, sentAt: 0, slot: 0 },
    sampling: { stride: 1, seen: 0, dropped: 0 },
    ref: 0, refs: new Map(),
    log: [],
  };
  window.cafchat = S;

  // -- the socket ----------------------------------------------------------------

  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    S.ws = ws;
    setConn("connecting…", "");
    ws.onopen = () => {
      S.connected = true;
      setConn("connected", "ok");
      banner("");
      if (S.name) send({ type: "hello", name: S.name });
    };
    ws.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch (e) { return; }
      handle(msg);
    };
    ws.onclose = (ev) => {
      S.connected = false;
      setConn("disconnected", "bad");
      $("chat-input").disabled = true;
      banner("Connection closed" + (ev.code ? " (" + ev.code + (ev.reason ? ": " + ev.reason : "") + ")" : "") +
             ". Reconnecting…");
      // A new connection is a new chat client: it downloads the history again.
      S.entries = []; S.byIndex.clear(); S.client = null;
      for (const p of S.pending) p.state = "refused", p.note = "connection lost before it was sent";
      S.pending = S.pending.filter((p) => p.seq > 0 && p.state !== "refused");
      renderMessages(true);
      setTimeout(connect, 2000);
    };
  }

  function send(obj) {
    if (S.ws && S.ws.readyState === 1) S.ws.send(JSON.stringify(obj));
  }

  function request(obj, onResult) {
    obj.ref = ++S.ref;
    S.refs.set(obj.ref, onResult);
    send(obj);
    return obj.ref;
  }

  function setConn(text, cls) {
    const el = $("conn-state");
    el.textContent = text;
    el.className = "badge " + cls;
  }

  function banner(text) {
    const b = $("banner");
    b.textContent = text;
    b.classList.toggle("hidden", !text);
  }

  function handle(m) {
    switch (m.type) {
      case "welcome": return onWelcome(m);
      case "session": return onSession(m);
      case "entries": return onEntries(m.entries);
      case "notice": return onNotice(m);
      case "said": return onSaid(m);
      case "ack": return onAck(m.seq);
      case "result": return onResult(m);
      case "error": return onError(m);
      case "cluster": return onCluster(m);
      case "events": return onEvents(m);
    }
  }

  function onWelcome(m) {
    S.welcome = m;
    S.operator = !!m.operator;
    $("op-badge").classList.toggle("hidden", !S.operator);
    $("op-badge").title = m.operator_note || "";
    $("ops").classList.toggle("hidden", !S.operator);
    $("program").textContent = m.program + " " + m.version +
      (S.operator ? "" : " — operator controls off: " + (m.operator_note || ""));
    renderCluster();
  }

  // -- chat --------------------------------------------------------------------------

  function onSession(m) {
    S.client = m.client;
    $("me").textContent = "you: " + m.name;
    $("me").classList.remove("hidden");
    $("name-form").classList.add("hidden");
    $("chat-input").disabled = false;
    $("chat-input").focus();
  }

  function onNotice(m) {
    if (m.event === "connected") {
      S.server = m.server;
      S.historyTotal = Math.max(S.historyTotal, m.history || 0);
      $("chat-status").textContent = "connected to server " + m.server;
      updateProgress();
    } else if (m.event === "server_lost") {
      $("chat-status").textContent = "server " + m.server + " is gone: " + m.detail;
    } else if (m.event === "waiting") {
      $("chat-status").textContent = "waiting for the cluster: " + m.detail;
    } else if (m.event === "rejected" || m.event === "withdrawn") {
      const p = S.pending.find((x) => x.seq === m.seq);
      if (p) { p.state = "refused"; p.note = m.detail; }
      $("chat-status").textContent = "message " + m.seq + " " + m.event + ": " + m.detail;
      renderMessages(false);
    } else {
      $("chat-status").textContent = m.event + ": " + m.detail;
    }
  }

  function onEntries(list) {
    const atBottom = isAtBottom();
    for (const e of list) {
      if (S.byIndex.has(e.index)) continue;
      S.byIndex.set(e.index, e);
      S.entries.push(e);
      if (e.client === S.client) {
        S.acked = Math.max(S.acked, e.seq);
        let i = S.pending.findIndex((p) => p.seq === e.seq);
        // Delivered before its "said" reply came back: match it by text.
        if (i < 0) i = S.pending.findIndex((p) => p.seq === 0 && p.text === e.text);
        if (i >= 0) {
          const p = S.pending[i];
          S.pending.splice(i, 1);
          e.sentAt = p.sentAt;
          e.ackedAt = Date.now();
        }
        if (S.follow.seq && e.seq === S.follow.seq) followDelivered(e);
      }
    }
    if (S.entries.length > 1 && list.length &&
        S.entries[S.entries.length - 2].index > list[list.length - 1].index)
      S.entries.sort((a, b) => a.index - b.index);
    updateProgress();
    renderMessages(atBottom);
  }

  function onSaid(m) {
    const p = S.pending.find((x) => x.ref === m.ref);
    if (!p) return;
    p.seq = m.seq;
    p.state = m.seq <= S.acked ? "acked" : "pending";
    if (S.follow.ref === m.ref) S.follow.seq = m.seq;
    renderMessages(false);
  }

  function onAck(seq) {
    S.acked = Math.max(S.acked, seq);
    for (const p of S.pending) if (p.seq && p.seq <= seq) p.state = "acked";
    renderMessages(false);
  }

  function onResult(m) {
    const f = S.refs.get(m.ref);
    S.refs.delete(m.ref);
    if (f) f(m);
  }

  function onError(m) {
    if (m.ref && S.refs.has(m.ref)) return onResult({ ref: m.ref, ok: false, message: m.message });
    const p = m.ref ? S.pending.find((x) => x.ref === m.ref) : null;
    if (p) { p.state = "refused"; p.note = m.message; renderMessages(false); }
    $("chat-status").textContent = "refused: " + m.message;
  }

  function updateProgress() {
    const have = S.entries.length ? S.entries[S.entries.length - 1].index : 0;
    const total = S.historyTotal;
    const box = $("history-box");
    if (!S.client || total === 0 || have >= total) {
      box.classList.add("hidden");
      $("history-progress").value = 1;
      return;
    }
    box.classList.remove("hidden");
    S.progressShown = (S.progressShown || 0) + 1; // scripts and tests read it
    $("history-progress").value = have / total;
    $("history-label").textContent = "downloading history: " + have.toLocaleString() + " / " +
      total.toLocaleString() + " messages";
  }

  // The message list draws only the rows in view: 100,000 messages stay cheap.
  function rowCount() { return S.entries.length + S.pending.length; }
  function isAtBottom() {
    const box = $("messages");
    return box.scrollTop + box.clientHeight >= box.scrollHeight - ROW * 1.5;
  }
  let renderQueued = false, stickBottom = false;
  function renderMessages(toBottom) {
    stickBottom = stickBottom || toBottom;
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(drawMessages);
  }
  function fmtTime(t) {
    const d = new Date(t);
    return isNaN(d) ? "" : d.toLocaleTimeString();
  }
  function drawMessages() {
    renderQueued = false;
    const box = $("messages");
    const n = rowCount();
    $("messages-spacer").style.height = n * ROW + "px";
    if (stickBottom) box.scrollTop = box.scrollHeight;
    stickBottom = false;
    const first = Math.max(0, Math.floor(box.scrollTop / ROW) - 5);
    const last = Math.min(n, Math.ceil((box.scrollTop + box.clientHeight) / ROW) + 5);
    for (const el of Array.from(box.querySelectorAll(".msg"))) el.remove();
    const frag = document.createDocumentFragment();
    for (let i = first; i < last; ++i) {
      const row = document.createElement("div");
      row.className = "msg";
      row.style.top = i * ROW + "px";
      if (i < S.entries.length) {
        const e = S.entries[i];
        const own = e.client === S.client;
        row.dataset.index = e.index;
        row.dataset.state = own ? "acked" : "";
        if (own) row.classList.add("own");
        row.innerHTML = "<span class=ix></span>" + (e.time ? "<span class=tm></span>" : "") +
          "<span class=from></span><span class=text></span>" + (own ? "<span class=mark>✓ acknowledged</span>" : "");
        row.querySelector(".ix").textContent = "[" + e.index + "]";
        if (e.time) row.querySelector(".tm").textContent = fmtTime(e.time);
        row.querySelector(".from").textContent = e.from + ":";
        row.querySelector(".text").textContent = e.text;
        row.title = "slot " + e.slot + ", seq " + e.seq;
      } else {
        const p = S.pending[i - S.entries.length];
        row.classList.add("own");
        row.dataset.state = p.state;
        row.innerHTML = "<span class=ix>[…]</span><span class=from></span><span class=text></span><span class=mark></span>";
        row.querySelector(".from").textContent = S.name + ":";
        row.querySelector(".text").textContent = p.text;
        row.querySelector(".mark").textContent =
          p.state === "refused" ? "✗ " + (p.note || "refused") : p.state === "acked" ? "✓ acknowledged" : "… pending";
      }
      frag.appendChild(row);
    }
    box.appendChild(frag);
  }

  $("messages").addEventListener("scroll", () => renderMessages(false));

  $("name-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = $("name-input").value.trim();
    if (!name) return;
    S.name = name;
    send({ type: "hello", name: name });
  });

  $("say-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = $("chat-input");
    const text = input.value;
    if (!text || !S.client) return;
    input.value = "";
    const p = { text: text, ref: ++S.ref, seq: 0, state: "pending", sentAt: Date.now() };
    S.pending.push(p);
    if (S.follow.armed) {
      S.follow = { armed: false, ref: p.ref, seq: 0, sentAt: p.sentAt, slot: 0 };
      $("p-follow").checked = false;
      $("follow-info").textContent = "following your message \"" + text + "\": submitted…";
    }
    send({ type: "say", text: text, ref: p.ref });
    renderMessages(true);
  });

  // -- the cluster -----------------------------------------------------------------

  function onCluster(m) {
    S.cluster = m;
    S.clusterAt = Date.now();
    // When each leader and each down server was first shown (scripts, tests).
    S.seen = S.seen || [];
    S.seen.push({ at: S.clusterAt, leader: m.leader,
                  down: m.servers.filter((x) => !x.alive).map((x) => x.id) });
    if (S.seen.length > 400) S.seen.splice(0, 100);
    S.historyTotal = Math.max(S.historyTotal, m.history || 0);
    updateProgress();
    renderCluster();
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function renderCluster() {
    const m = S.cluster;
    const box = $("cluster");
    box.textContent = "";
    if (!m) return;
    if (!m.ready) box.appendChild(el("div", "muted", "waiting for every server to register…"));
    for (const s of m.servers) {
      const card = el("div", "card");
      card.dataset.id = s.id;
      card.dataset.alive = s.alive;
      card.dataset.role = s.role;
      if (!s.alive) card.classList.add("down");
      if (s.alive && s.role === "leader") card.classList.add("leader");
      const h = el("h4");
      h.appendChild(el("span", "", "server " + s.id));
      h.appendChild(el("span", "role", s.alive ? (s.role === "leader" ? "★ leader" : s.role) : "DOWN"));
      card.appendChild(h);
      const dl = el("dl");
      const row = (k, v) => { dl.appendChild(el("dt", "", k)); dl.appendChild(el("dd", "", String(v))); };
      row("ballot", s.alive ? "(" + s.ballot[0] + "," + s.ballot[1] + ")" : "–");
      row("leader", s.alive && s.leader ? s.leader : "–");
      row("decided", s.decided);
      row("delivered", s.delivered);
      row("history", s.history);
      row("clients", s.clients);
      card.appendChild(dl);
      if (s.alive && s.acceptor && s.acceptor !== "voting")
        card.appendChild(el("div", "note", "does not vote: " + s.waiting));
      if (S.operator) {
        const btns = el("div", "btns");
        for (const a of ["kill", "restart", "wipe"]) {
          const b = el("button", "", a);
          b.dataset.server = s.id;
          b.dataset.action = a;
          b.className = "op-" + a;
          b.addEventListener("click", () => operate(a, s.id));
          btns.appendChild(b);
        }
        card.appendChild(btns);
      }
      box.appendChild(card);
    }
    renderFaults();
  }

  function renderFaults() {
    const f = S.cluster && S.cluster.faults;
    const box = $("faults");
    box.textContent = "";
    if (!f) { box.appendChild(el("div", "muted", "network-fault simulator: off")); return; }
    const parts = [];
    const on = (b, t) => parts.push([b, t]);
    on(f.drop > 0, "drop " + f.drop);
    on(f.duplicate > 0, "duplicate " + f.duplicate);
    on(f.delay_ms[1] > 5, "delay " + f.delay_ms[0] + "–" + f.delay_ms[1] + " ms");
    on(f.omission, "omission " + (f.omission ? "on, victim: " + (f.faulty ? "server " + f.faulty : "none") : "off"));
    const rules = Object.entries(f.rules || {});
    on(rules.length > 0, "rules: " + (rules.length ? rules.map(([k, v]) => k + " " + v).join(", ") : "none"));
    on((f.partitions || []).length > 0, "partitions: " +
       ((f.partitions || []).length ? f.partitions.map((p) => "{" + p.join(",") + "}").join(" | ") : "none"));
    const line = el("div");
    line.appendChild(el("b", "", "faults: "));
    parts.forEach(([active, text], i) => {
      line.appendChild(el("span", active ? "on" : "", text));
      if (i < parts.length - 1) line.appendChild(document.createTextNode(" · "));
    });
    box.appendChild(line);
    box.appendChild(el("div", "muted", "forwarded " + f.forwarded + ", dropped " + f.dropped +
                                       ", duplicated " + f.duplicated));
  }

  setInterval(() => {
    if (S.clusterAt) $("cluster-age").textContent = "updated " +
      Math.max(0, Math.round((Date.now() - S.clusterAt) / 100) / 10) + " s ago";
  }, 500);

  // -- operator controls -------------------------------------------------------------

  function opLog(ok, text) {
    const line = el("div", ok ? "ok" : "no", (ok ? "✓ " : "✗ ") + text);
    const box = $("op-log");
    box.appendChild(line);
    box.scrollTop = box.scrollHeight;
    S.log.push({ ok: ok, text: text });
  }

  function operate(action, server) {
    request({ type: "op", action: action, server: server }, (r) => opLog(r.ok, r.message));
  }

  function faults(action) {
    const num = (id) => Number($(id).value);
    const m = { type: "faults" };
    switch (action) {
      case "drop": Object.assign(m, { action: "drop", probability: num("f-drop") }); break;
      case "duplicate": Object.assign(m, { action: "duplicate", probability: num("f-dup") }); break;
      case "delay": Object.assign(m, { action: "delay", min_ms: num("f-dmin"), max_ms: num("f-dmax") }); break;
      case "omission-on": Object.assign(m, { action: "omission", on: true }); break;
      case "omission-off": Object.assign(m, { action: "omission", on: false }); break;
      case "set_rule": Object.assign(m, { action: "set_rule", server: num("f-server"), rule: $("f-rule").value }); break;
      case "clear_rule": Object.assign(m, { action: "clear_rule", server: num("f-server") }); break;
      case "isolate": Object.assign(m, { action: "isolate", server: num("f-server") }); break;
      case "split": Object.assign(m, { action: "split",
        servers: $("f-split").value.split(",").map((x) => Number(x.trim())).filter((x) => x > 0) }); break;
      default: m.action = action;
    }
    request(m, (r) => opLog(r.ok, r.message));
  }

  for (const b of document.querySelectorAll("#ops button[data-op]"))
    b.addEventListener("click", () => operate(b.dataset.op, 0));
  for (const b of document.querySelectorAll("#ops button[data-faults]"))
    b.addEventListener("click", () => faults(b.dataset.faults));

  // -- the protocol ------------------------------------------------------------------

  const KIND = {
    prepare: "p1", promise: "p1", propose: "p2", accepted: "p2", decision: "dc", delivered: "dc",
    rejection: "nk", rejected: "nk", nacked: "nk",
    candidate: "el", leader: "el", leader_lost: "el", leader_known: "el", higher_leader: "el",
    check_quorum: "el", phase1_timeout: "el", server_killed: "el", server_started: "el", server_died: "el",
  };

  // Leader changes stay in view above the diagram, however fast the chat runs.
  const ELECTION = new Set(["candidate", "leader", "leader_lost", "higher_leader", "check_quorum",
                            "server_killed", "server_started", "server_died"]);
  S.elections = [];
  function renderElections() {
    const box = $("elections");
    box.textContent = "";
    const xs = S.elections.slice(-4);
    if (!xs.length) return;
    box.appendChild(el("b", "", "elections: "));
    xs.forEach((x, i) => {
      const ago = Math.round((Date.now() - x.at) / 100) / 10;
      box.appendChild(el("span", "", "server " + x.e.server + " " + label(x.e)));
      box.appendChild(el("span", "when", " (" + ago + " s ago)"));
      if (i < xs.length - 1) box.appendChild(document.createTextNode(" → "));
    });
  }
  setInterval(renderElections, 1000);

  function bal(b) { return b ? "(" + b[0] + "," + b[1] + ")" : ""; }

  function label(e) {
    switch (e.event) {
      case "prepare": return "prepare " + bal(e.ballot) + " from s" + e.first_slot;
      case "promise": return "promise " + bal(e.ballot) + " → " + e.to;
      case "propose": return "accept s" + e.slot + " " + bal(e.ballot) + (e.noop ? " no-op" : " ×" + e.commands);
      case "accepted": return "accepted s" + e.slot + " " + bal(e.ballot);
      case "decision": return "decide s" + e.slot;
      case "delivered": return "delivered s" + e.first_slot + (e.last_slot !== e.first_slot ? "–" + e.last_slot : "");
      case "rejection": return "nack s" + e.slot + " " + bal(e.ballot) + " < " + bal(e.higher);
      case "leader": return "LEADER " + bal(e.ballot);
      case "candidate": return "candidate " + bal(e.ballot);
      case "server_killed": return "KILLED";
      case "server_started": return "started #" + e.incarnation;
      case "server_died": return "DIED";
      default: return e.event + (e.slot ? " s" + e.slot : "") + (e.ballot ? " " + bal(e.ballot) : "");
    }
  }

  // Messages an event stands for: from its server to these servers.
  function targets(e, lanes) {
    const others = lanes.filter((x) => x !== e.server);
    switch (e.event) {
      case "prepare": case "propose": case "decision": return others;
      case "promise": case "rejection": return e.to && e.to !== e.server ? [e.to] : [];
      case "accepted": return e.ballot && e.ballot[1] !== e.server ? [e.ballot[1]] : [];
      default: return [];
    }
  }

  function onEvents(m) {
    S.sampling = { stride: m.stride, seen: m.seen, dropped: m.dropped };
    for (const e of m.events) {
      if (!e.server) continue; // the balancer's and the simulator's lines
      // The proposer logs one accept or decide per acceptor: draw it once.
      if ((e.event === "propose" || e.event === "decision")) {
        const k = e.event + "/" + e.server + "/" + e.slot + "/" + bal(e.ballot);
        if (S.lastKey === k) continue;
        S.lastKey = k;
      } else {
        S.lastKey = "";
      }
      S.events.push(e);
      if (ELECTION.has(e.event)) {
        S.elections.push({ at: Date.now(), e: e });
        if (S.elections.length > 50) S.elections.shift();
      }
    }
    renderElections();
    if (S.events.length > EVENTS_MAX) {
      const cut = S.events.length - EVENTS_MAX;
      S.events.splice(0, cut);
      S.shownUpTo = Math.max(0, S.shownUpTo - cut);
    }
    const st = $("proto-status");
    if (m.stride > 1 || m.dropped > 0)
      st.textContent = "sampling: showing 1 slot in " + m.stride + " (" + m.dropped + " of " + m.seen +
        " events left out in the last push) — the chat runs faster than a diagram can be read";
    else if (m.seen > 0)
      st.textContent = "showing every event";
    if (S.follow.slot) followDelivered(null);
    renderProtocol();
  }

  let protoQueued = false;
  function renderProtocol() {
    if (protoQueued) return;
    protoQueued = true;
    setTimeout(() => { protoQueued = false; drawProtocol(); }, 150);
  }

  function visibleEvents() {
    const upTo = S.paused ? S.shownUpTo : S.events.length;
    let xs = S.events.slice(0, upTo);
    if (S.slotFilter) {
      const s = S.slotFilter;
      xs = xs.filter((e) => e.slot === s || (e.event === "delivered" && e.first_slot <= s && s <= e.last_slot));
    }
    return xs.slice(-DIAGRAM_ROWS);
  }

  function lanesNow() {
    const ids = new Set();
    if (S.cluster) for (const s of S.cluster.servers) ids.add(s.id);
    for (const e of S.events.slice(-200)) ids.add(e.server);
    return Array.from(ids).sort((a, b) => a - b);
  }

  const SVGNS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function drawProtocol() {
    const wrap = $("proto-wrap");
    const follow = wrap.scrollTop + wrap.clientHeight >= wrap.scrollHeight - 30;
    const root = $("proto");
    const lanes = lanesNow();
    const events = visibleEvents();
    const width = Math.max(420, $("proto-wrap").clientWidth - 4);
    const top = 28, rowH = 20;
    const height = top + Math.max(events.length, 3) * rowH + 10;
    root.setAttribute("width", width);
    root.setAttribute("height", height);
    root.textContent = "";
    const laneX = new Map();
    lanes.forEach((id, i) => laneX.set(id, 60 + (i + 0.5) * (width - 80) / Math.max(1, lanes.length)));
    const alive = new Map();
    if (S.cluster) for (const s of S.cluster.servers) alive.set(s.id, s.alive);
    const defs = svg("defs", {});
    for (const k of ["p1", "p2", "dc", "nk", "el"]) {
      const mk = svg("marker", { id: "arrow-" + k, viewBox: "0 0 10 10", refX: 9, refY: 5,
                                 markerWidth: 8, markerHeight: 8, markerUnits: "userSpaceOnUse",
                                 orient: "auto-start-reverse" });
      mk.appendChild(svg("path", { d: "M0,0 L10,5 L0,10 z", class: k }));
      defs.appendChild(mk);
    }
    root.appendChild(defs);
    for (const id of lanes) {
      const x = laneX.get(id);
      root.appendChild(svg("line", { x1: x, y1: top - 6, x2: x, y2: height, class: "lane" }));
      const head = svg("text", { x: x, y: 16, "text-anchor": "middle",
                                 class: "lanehead" + (alive.get(id) === false ? " dead" : "") },
                       "server " + id + (alive.get(id) === false ? " ✗" : ""));
      root.appendChild(head);
    }
    const hlSlot = S.follow.slot;
    events.forEach((e, i) => {
      const y = top + i * rowH + 8;
      const x = laneX.get(e.server);
      if (x === undefined) return;
      const k = KIND[e.event] || "ot";
      const hl = hlSlot && (e.slot === hlSlot || (e.event === "delivered" && e.first_slot <= hlSlot && hlSlot <= e.last_slot));
      for (const t of targets(e, lanes)) {
        const tx = laneX.get(t);
        if (tx === undefined) continue;
        root.appendChild(svg("line", { x1: x, y1: y, x2: tx, y2: y + rowH * 0.7,
                                       class: k + (hl ? " hl" : ""), "marker-end": "url(#arrow-" + k + ")" }));
      }
      root.appendChild(svg("circle", { cx: x, cy: y, r: k === "el" ? 5 : 3, class: k, fill: "currentColor" }));
      const right = x < width / 2 || lanes.length === 1;
      const t = svg("text", { x: right ? x + 7 : x - 7, y: y + 4, "text-anchor": right ? "start" : "end",
                              class: k }, label(e));
      if (hl) t.setAttribute("font-weight", "700");
      root.appendChild(t);
      const tt = svg("title", {}, JSON.stringify(e));
      t.appendChild(tt);
    });
    root.appendChild(svg("text", { x: 4, y: height - 2, class: "ot" },
      S.paused ? "paused (" + (S.events.length - S.shownUpTo) + " waiting)" : ""));
    $("p-step").disabled = !S.paused || S.shownUpTo >= S.events.length;
    if (follow) wrap.scrollTop = wrap.scrollHeight; // the newest events in view
  }

  $("p-pause").addEventListener("click", () => {
    S.paused = !S.paused;
    S.shownUpTo = S.events.length;
    $("p-pause").textContent = S.paused ? "resume" : "pause";
    drawProtocol();
  });
  $("p-step").addEventListener("click", () => {
    S.shownUpTo = Math.min(S.events.length, S.shownUpTo + 1);
    drawProtocol();
  });
  $("p-slot").addEventListener("input", () => {
    const v = Number($("p-slot").value);
    S.slotFilter = v > 0 ? v : null;
    drawProtocol();
  });
  $("p-follow").addEventListener("change", () => {
    S.follow.armed = $("p-follow").checked;
    $("follow-info").textContent = S.follow.armed ? "the next message you send will be followed" : "";
  });

  // A followed message was delivered in slot e.slot: show that slot's path.
  function followDelivered(e) {
    if (e) {
      S.follow.slot = e.slot;
      S.follow.ackedAt = Date.now();
      S.slotFilter = e.slot;
      $("p-slot").value = e.slot;
    }
    const f = S.follow;
    const evs = S.events.filter((x) => x.slot === f.slot ||
                                       (x.event === "delivered" && x.first_slot <= f.slot && f.slot <= x.last_slot));
    const names = evs.map((x) => "s" + x.server + " " + (x.event === "propose" ? "accept" : x.event));
    const sampled = S.sampling.stride > 1 && f.slot % S.sampling.stride !== 0;
    $("follow-info").textContent = "message seq " + f.seq + ": submitted, ordered in slot " + f.slot +
      ", acknowledged after " + (f.ackedAt - f.sentAt) + " ms; " +
      (evs.length ? "path: you → server " + S.server + " → " + names.join(" → ") + " → you"
                  : sampled ? "this slot was sampled out (the feed shows 1 slot in " + S.sampling.stride + ")"
                            : "waiting for its events…");
    drawProtocol();
  }

  window.addEventListener("resize", () => { renderMessages(false); renderProtocol(); });
  connect();
})();

// The class board: polls the board's JSON with If-None-Match and redraws what changed.
// Every text is set with textContent (never HTML): students' messages are their own words.
"use strict";
(function () {
  const root = document.getElementById("board");
  if (!root) return;
  const url = root.dataset.url;
  const pollMs = Number(root.dataset.pollMs) || 2000;
  const SYMBOL = { passed: "✓", failed: "✗", error: "!", skipped: "–", pending: "·" };
  const WORD = { passed: "passed", failed: "failed", error: "error", skipped: "skipped", pending: "not yet" };
  let etag = null;
  let data = null;
  let sort = "progress";
  let failures = 0;

  const $ = (id) => document.getElementById(id);
  const el = (tag, props, text) => {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    if (text !== undefined) node.textContent = text;
    return node;
  };

  function ago(epoch) {
    if (epoch === null || epoch === undefined) return "—";
    const s = Math.max(0, Math.round(Date.now() / 1000 - epoch));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }

  function ordered(students) {
    const copy = students.slice();
    const name = (a, b) => a.id.localeCompare(b.id);
    const idle = (s) => (s.changed_at === null ? Infinity : Date.now() / 1000 - s.changed_at);
    const by = {
      progress: (a, b) => b.passed - a.passed || name(a, b),
      idle: (a, b) => idle(b) - idle(a) || name(a, b),
      name: name,
    }[sort];
    copy.sort((a, b) => (b.stuck ? 1 : 0) - (a.stuck ? 1 : 0) || by(a, b));  // stuck on top
    return copy;
  }

  function drawStuck() {
    const list = $("stuck");
    list.replaceChildren();
    $("stuck-count").textContent = "(" + data.stuck.length + ")";
    if (!data.stuck.length) list.append(el("li", { className: "empty" }, "No one is stuck."));
    for (const s of data.stuck) {
      const item = el("li", { className: "stuck-item" });
      item.append(el("strong", {}, s.student), " on ", el("code", {}, s.id),
        " for " + ago(s.since) + ": ", el("span", { className: "message" }, s.message || "(no message)"));
      list.append(item);
    }
  }

  // Which problems the instructor opened, by check and pattern: a redraw keeps them open
  // (and the focus where it was), however often the class changes.
  const openProblems = new Set();

  function drawProblems() {
    const list = $("problems");
    const focused = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.key : undefined;
    list.replaceChildren();
    if (!data.problems.length) list.append(el("li", { className: "empty" }, "No failing checks right now."));
    for (const p of data.problems) {
      const key = p.check + "|" + p.pattern;
      const item = el("li", { className: "problem" });
      const details = el("details", { open: openProblems.has(key) });
      details.addEventListener("toggle", () => {
        if (details.open) openProblems.add(key); else openProblems.delete(key);
      });
      const summary = el("summary");
      summary.dataset.key = key;
      summary.append(el("span", { className: "problem-count" }, String(p.count)),
        " × ", el("code", {}, p.check), " ", el("span", { className: "message" }, p.example));
      details.append(summary, el("p", { className: "who" }, "Who: " + p.students.join(", ")));
      item.append(details);
      list.append(item);
      if (focused === key) summary.focus();
    }
  }

  function drawGrid() {
    const head = $("grid-head");
    head.replaceChildren(el("th", { scope: "col" }, "Student"), el("th", { scope: "col" }, "Passed"),
      el("th", { scope: "col" }, "Idle"));
    for (const check of data.checks) {
      const th = el("th", { scope: "col", className: "check-col", title: check.title }, check.id);
      head.append(th);
    }
    const body = $("grid-body");
    body.replaceChildren();
    $("student-count").textContent = "(" + data.students.length + ")";
    for (const s of ordered(data.students)) {
      const row = el("tr", { className: s.stuck ? "is-stuck" : "" });
      row.dataset.student = s.id;
      const who = el("th", { scope: "row" }, s.id);
      if (s.stuck) who.append(" ", el("span", { className: "stuck-mark" }, "stuck"));
      row.append(who, el("td", { className: "num" }, s.passed + "/" + data.checks.length),
        el("td", { className: "idle", title: "since the last change" }, ago(s.changed_at)));
      for (const check of data.checks) {
        const c = s.checks[check.id];
        const status = c ? c.status : "pending";
        const cell = el("td", { className: "cell " + status }, SYMBOL[status] || "?");
        cell.dataset.check = check.id;
        cell.dataset.status = status;
        cell.title = check.id + ": " + WORD[status] + (c && c.message ? " — " + c.message : "");
        cell.setAttribute("aria-label", cell.title);
        row.append(cell);
      }
      body.append(row);
    }
  }

  function draw() {
    if (!data) return;
    drawStuck();
    drawProblems();
    drawGrid();
  }

  async function poll() {
    try {
      const headers = { Accept: "application/json" };
      if (etag) headers["If-None-Match"] = etag;
      const answer = await fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store" });
      if (answer.status === 200) {
        etag = answer.headers.get("ETag");
        data = await answer.json();
        draw();
      } else if (answer.status !== 304) {
        throw new Error("HTTP " + answer.status);
      }
      failures = 0;
      $("status").textContent = "up to date at " + new Date().toLocaleTimeString();
    } catch (error) {
      failures += 1;
      $("status").textContent = "cannot reach the server (" + error.message + "); retrying";
    }
    setTimeout(poll, failures ? Math.min(pollMs * 2 ** failures, 30000) : pollMs);
  }

  for (const button of document.querySelectorAll("[data-sort]")) {
    button.addEventListener("click", () => {
      sort = button.dataset.sort;
      for (const other of document.querySelectorAll("[data-sort]")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
      draw();
    });
  }
  const large = $("large-type");
  const setLarge = (on) => {
    document.body.classList.toggle("large-type", on);
    large.setAttribute("aria-pressed", String(on));
    try { localStorage.setItem("board-large-type", on ? "1" : ""); } catch (e) { /* private mode */ }
  };
  large.addEventListener("click", () => setLarge(!document.body.classList.contains("large-type")));
  try { if (localStorage.getItem("board-large-type")) setLarge(true); } catch (e) { /* none */ }
  setInterval(() => {  // the idle times move on between polls
    if (data) for (const row of document.querySelectorAll("#grid-body tr")) {
      const s = data.students.find((x) => x.id === row.dataset.student);
      if (s) row.querySelector(".idle").textContent = ago(s.changed_at);
    }
  }, 5000);
  poll();
})();

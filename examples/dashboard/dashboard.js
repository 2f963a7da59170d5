// meterd's consumer dashboard (examples/dashboard): plain JavaScript, no build step, no library.
//
// With a portal token it calls two routes of meterd's HTTP API, both limited to the token's own subject:
//   GET /api/v1/portal/meters/{meter}/query?windowSize=DAY  (the usage per day, drawn as an SVG bar chart)
//   GET /api/v1/portal/entitlements/watch                   (Server-Sent Events: the live balances)
// The token goes in the Authorization header of the query and in the access_token parameter of the
// stream (EventSource cannot send headers). From another origin than meterd's, that origin must be in
// meterd's http.cors.allowed_origins.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const state = { baseUrl: "", token: "", meter: "", days: 14, source: null, balances: new Map(), refresh: 0 };

function formatNumber(value) {
  return value.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

function showError(text) {
  const box = $("error");
  box.textContent = text;
  box.hidden = !text;
}

// The claims of a JWT (not verified here: the server verifies the token on every call).
function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  } catch (e) {
    return {};
  }
}

// A problem+json answer's detail, or the status line.
async function problemOf(response) {
  try {
    const body = await response.json();
    if (body && body.detail) return `${response.status} ${body.title || ""}: ${body.detail}`;
  } catch (e) { /* not JSON */ }
  return `${response.status} ${response.statusText}`;
}

// The local calendar day (YYYY-MM-DD) of a Date, in the browser's time zone (the query's windowTimeZone).
function dayKey(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

async function loadUsage() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const today = new Date();
  const first = new Date(today.getFullYear(), today.getMonth(), today.getDate() - (state.days - 1));
  const params = new URLSearchParams({ windowSize: "DAY", windowTimeZone: zone, from: first.toISOString() });
  const url = `${state.baseUrl}/api/v1/portal/meters/${encodeURIComponent(state.meter)}/query?${params}`;
  const response = await fetch(url, { headers: { Authorization: `Bearer ${state.token}`, Accept: "application/json" } });
  if (!response.ok) throw new Error(await problemOf(response));
  const result = await response.json();
  const byDay = new Map();
  for (const row of result.data || []) {
    const key = dayKey(new Date(row.windowStart));
    byDay.set(key, (byDay.get(key) || 0) + row.value);
  }
  const days = [];
  for (let i = 0; i < state.days; i++) {
    const day = new Date(first.getFullYear(), first.getMonth(), first.getDate() + i);
    days.push({ day: dayKey(day), date: day, value: byDay.get(dayKey(day)) || 0 });
  }
  drawChart(days);
}

// A bar per day, its value written above it; the same numbers in the table below the chart.
function drawChart(days) {
  const width = 960, height = 280, left = 48, right = 12, top = 24, bottom = 36;
  const max = Math.max(1, ...days.map((d) => d.value));
  const slot = (width - left - right) / days.length;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", "100%");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${state.meter} per day`);
  const add = (parent, name, attrs, text) => {
    const el = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    parent.appendChild(el);
    return el;
  };
  const base = height - bottom;
  add(svg, "line", { class: "axis", x1: left, x2: width - right, y1: base, y2: base });
  add(svg, "text", { x: left - 6, y: top + 4, "text-anchor": "end" }, formatNumber(max));
  add(svg, "text", { x: left - 6, y: base, "text-anchor": "end" }, "0");
  const every = Math.ceil(days.length / 14);
  days.forEach((d, i) => {
    const x = left + i * slot + slot * 0.15;
    const h = ((base - top) * d.value) / max;
    const group = add(svg, "g", { class: "day", "data-day": d.day, "data-value": String(d.value) });
    add(group, "title", {}, `${d.day}: ${formatNumber(d.value)}`);
    add(group, "rect", { class: "bar", x, y: base - h, width: slot * 0.7, height: h });
    if (d.value !== 0) {
      add(group, "text", { class: "bar-label", x: x + slot * 0.35, y: base - h - 4, "text-anchor": "middle" },
        formatNumber(d.value));
    }
    if (i % every === 0) {
      const label = d.date.toLocaleDateString("en-US", { month: "short", day: "numeric" });
      add(svg, "text", { x: x + slot * 0.35, y: base + 16, "text-anchor": "middle" }, label);
    }
  });
  $("chart").replaceChildren(svg);
  const rows = days.filter((d) => d.value !== 0).map((d) => {
    const tr = document.createElement("tr");
    tr.dataset.day = d.day;
    for (const text of [d.day, formatNumber(d.value)]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  });
  document.querySelector("#usage-table tbody").replaceChildren(...rows);
  $("total").textContent = formatNumber(days.reduce((sum, d) => sum + d.value, 0));
  $("usage-title").textContent = `Usage per day: ${state.meter}`;
  $("chart").dataset.loaded = String(Date.now());
}

function drawBalances() {
  const cards = [...state.balances.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([feature, value]) => {
    const card = document.createElement("div");
    card.className = "balance" + (value.hasAccess ? "" : " no-access");
    card.dataset.feature = feature;
    const metered = value.balance !== undefined; // boolean and static values carry hasAccess (and config)
    card.innerHTML = '<div class="feature"></div><div class="amount"></div><div class="detail"></div>';
    card.querySelector(".feature").textContent = feature;
    card.querySelector(".amount").textContent = metered ? formatNumber(value.balance) : (value.hasAccess ? "on" : "off");
    card.querySelector(".detail").textContent = metered
      ? `used ${formatNumber(value.usage)}${value.overage ? `, overage ${formatNumber(value.overage)}` : ""}`
      : "";
    return card;
  });
  $("balances").replaceChildren(...cards);
}

function setLive(text, live) {
  $("live").textContent = text;
  $("live").className = "status " + (live ? "live" : "down");
}

// The watch: a snapshot of every entitlement of the subject, then each change. EventSource reconnects by
// itself and sends the last event's id as Last-Event-ID: the watch resumes where it stopped.
function watchBalances() {
  if (state.source) state.source.close();
  const url = `${state.baseUrl}/api/v1/portal/entitlements/watch?access_token=${encodeURIComponent(state.token)}`;
  const source = (state.source = new EventSource(url));
  source.onopen = () => setLive("live", true);
  source.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.snapshot) state.balances.clear();
    let usage = false;
    for (const update of message.updates) {
      if (update.deleted || !update.value) state.balances.delete(update.featureKey);
      else state.balances.set(update.featureKey, update.value);
      usage = usage || update.reasons.includes("USAGE");
    }
    drawBalances();
    if (usage) scheduleRefresh();
  };
  source.addEventListener("problem", (event) => {
    const problem = JSON.parse(event.data);
    showError(`${problem.status} ${problem.title}: ${problem.detail}`);
    source.close();
    setLive("closed", false);
  });
  source.onerror = () => {
    setLive(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting", false);
  };
}

// New usage moved a balance: the chart follows, at most once a second.
function scheduleRefresh() {
  if (state.refresh) return;
  state.refresh = setTimeout(() => {
    state.refresh = 0;
    loadUsage().catch((e) => showError(String(e.message || e)));
  }, 1000);
}

async function open(event) {
  if (event) event.preventDefault();
  showError("");
  state.baseUrl = $("base-url").value.trim().replace(/\/+$/, "");
  state.token = $("token").value.trim();
  state.days = Math.min(366, Math.max(1, Number($("days").value) || 14));
  const allowed = claimsOf(state.token).allowed_meter_slugs || [];
  if (!$("meter").value.trim() && allowed.length) $("meter").value = allowed[0];
  state.meter = $("meter").value.trim();
  if (!state.meter) {
    showError("Name the meter to plot (the token allows every meter).");
    return;
  }
  watchBalances();
  try {
    await loadUsage();
  } catch (e) {
    showError(String(e.message || e));
  }
}

// The form starts from the page's own server, or from #baseUrl=...&token=...&meter=... in the address
// (a fragment never reaches a server's logs).
function init() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const own = location.protocol.startsWith("http") ? location.origin : "http://localhost:8888";
  $("base-url").value = fragment.get("baseUrl") || own;
  $("token").value = fragment.get("token") || "";
  $("meter").value = fragment.get("meter") || "";
  if (fragment.get("days")) $("days").value = fragment.get("days");
  $("connect").addEventListener("submit", open);
  if ($("token").value) open();
}

init();

// 党建展厅管理后台: small local script (no CDN, no framework).
// Every action calls the JSON API with the session's CSRF token.
"use strict";

const CSRF = document.querySelector('meta[name="csrf"]')?.content || "";

// Values a page needs from the server arrive as a JSON data block (never
// executed), because the Content-Security-Policy forbids inline scripts.
function pageData() {
  const el = document.getElementById("page-data");
  return el ? JSON.parse(el.textContent) : {};
}

function toast(text, isError) {
  const box = document.getElementById("msg");
  if (!box) return;
  box.textContent = text;
  box.className = "msg" + (isError ? " error" : "");
  box.style.display = "block";
  clearTimeout(box._t);
  box._t = setTimeout(() => { box.style.display = "none"; }, isError ? 8000 : 4000);
}

async function api(method, url, body, isForm) {
  const opts = { method, headers: { "X-CSRF-Token": CSRF }, credentials: "same-origin" };
  if (body !== undefined && body !== null) {
    if (isForm) { opts.body = body; } else { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  }
  const r = await fetch(url, opts);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (!r.ok) {
    let detail = (data && data.detail) || ("请求失败 " + r.status);
    if (data && data.errors && data.errors.length) {
      detail += "：" + data.errors.map(e => (e.loc || []).join(".") + " " + e.msg).join("；");
    }
    const err = new Error(detail); err.status = r.status; err.data = data; throw err;
  }
  return data;
}

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// <button data-api="POST /api/..." data-comment="退回意见" data-confirm="..." data-body='{"a":1}' data-then="reload|/path">
document.addEventListener("click", async (ev) => {
  const btn = ev.target.closest("[data-api]");
  if (!btn) return;
  ev.preventDefault();
  const [method, url] = btn.dataset.api.split(" ");
  if (btn.dataset.confirm && !confirm(btn.dataset.confirm)) return;
  let body = btn.dataset.body ? JSON.parse(btn.dataset.body) : (method === "POST" ? {} : undefined);
  if (btn.dataset.comment !== undefined) {
    const c = prompt(btn.dataset.comment || "意见");
    if (c === null) return;
    body = Object.assign(body || {}, { comment: c });
  }
  btn.disabled = true;
  try {
    const res = await api(method, url, body);
    toast((res && res.message) || btn.dataset.done || "操作成功");
    const then = btn.dataset.then || "reload";
    setTimeout(() => { if (then === "reload") location.reload(); else if (then !== "none") location.href = then; }, 500);
  } catch (e) { toast(e.message, true); } finally { btn.disabled = false; }
});

// Forms with data-api-form="POST /api/..." submit as JSON (fields by name; data-type on inputs).
document.addEventListener("submit", async (ev) => {
  const form = ev.target.closest("form[data-api-form]");
  if (!form) return;
  ev.preventDefault();
  const [method, url] = form.dataset.apiForm.split(" ");
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    let v;
    if (el.type === "checkbox") v = el.checked;
    else if (el.dataset.type === "int") v = el.value === "" ? null : parseInt(el.value, 10);
    else if (el.dataset.type === "list" && el.multiple) v = [...el.selectedOptions].map(o => o.value);
    else if (el.dataset.type === "list") v = el.value.split(/[,，\s]+/).filter(Boolean);
    else if (el.dataset.type === "intlist") v = el.value.trim() === "" ? null : el.value.split(/[,，\s]+/).filter(Boolean).map(Number);
    else if (el.dataset.type === "json") { try { v = el.value.trim() ? JSON.parse(el.value) : []; } catch (e) { toast(el.name + " 不是有效的 JSON", true); return; } }
    else v = el.value === "" && el.dataset.nullable !== undefined ? null : el.value;
    body[el.name] = v;
  }
  try {
    const res = await api(method, url, body);
    if (form.dataset.show) {
      document.getElementById(form.dataset.show).textContent = typeof res === "string" ? res : JSON.stringify(res, null, 2);
    }
    toast((res && res.message) || "已保存");
    if (form.dataset.then !== "none") setTimeout(() => location.reload(), 600);
  } catch (e) { toast(e.message, true); }
});

function poll(url, render, ms) {
  let stopped = false;
  async function tick() {
    if (stopped) return;
    try { render(await api("GET", url)); } catch (e) { /* keep polling: the server may be restarting */ }
    setTimeout(tick, ms || 3000);
  }
  tick();
  return () => { stopped = true; };
}

// -- charts drawn on canvas (no chart library needed) --------------------------
function prepCanvas(canvas, height) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600;
  canvas.width = w * ratio; canvas.height = height * ratio; canvas.style.height = height + "px";
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  g.font = "12px sans-serif";
  return [g, w];
}

function barChart(canvas, labels, values, unit) {
  const h = Math.max(60, labels.length * 26 + 10);
  const [g, w] = prepCanvas(canvas, h);
  const max = Math.max(1, ...values);
  const left = Math.min(220, w * 0.35);
  labels.forEach((label, i) => {
    const y = 6 + i * 26;
    g.fillStyle = "#333"; g.textBaseline = "middle";
    g.fillText(String(label).slice(0, 18), 4, y + 10);
    const bw = (w - left - 70) * values[i] / max;
    g.fillStyle = "#c62828"; g.fillRect(left, y, bw, 20);
    g.fillStyle = "#333"; g.fillText(values[i] + (unit || ""), left + bw + 6, y + 10);
  });
}

const PALETTE = ["#c62828", "#f9a825", "#2e7d32", "#1565c0", "#6a1b9a", "#ef6c00", "#00838f", "#8d6e63"];

function timelineChart(canvas, segments, days) {
  if (!segments.length) return;
  const rowH = 26, top = 22;
  const [g, w] = prepCanvas(canvas, top + days * rowH + 30);
  const left = 90, span = w - left - 10;
  const colors = {};
  let n = 0;
  const colorOf = id => id === null ? "#ddd" : (colors[id] = colors[id] || PALETTE[n++ % PALETTE.length]);
  g.fillStyle = "#666";
  for (let hr = 0; hr <= 24; hr += 3) g.fillText(hr + ":00", left + span * hr / 24 - 12, 12);
  const day0 = new Date(segments[0].start.slice(0, 10) + "T00:00:00");
  for (const s of segments) {
    // Split each segment at local midnights into one bar per day row.
    let a = new Date(s.start.slice(0, 19)), b = new Date(s.end.slice(0, 19));
    while (a < b) {
      const dayStart = new Date(a.getFullYear(), a.getMonth(), a.getDate());
      const next = new Date(dayStart.getTime() + 86400000);
      const end = b < next ? b : next;
      const row = Math.round((dayStart - day0) / 86400000);
      if (row >= 0 && row < days) {
        const x0 = left + span * (a - dayStart) / 86400000, x1 = left + span * (end - dayStart) / 86400000;
        g.fillStyle = colorOf(s.playlist_id); g.fillRect(x0, top + row * rowH, Math.max(1, x1 - x0), rowH - 6);
      }
      a = end;
    }
  }
  g.fillStyle = "#333";
  for (let r = 0; r < days; r++) {
    const d = new Date(day0.getTime() + r * 86400000);
    g.fillText((d.getMonth() + 1) + "月" + d.getDate() + "日 周" + "一二三四五六日"[(d.getDay() + 6) % 7], 4, top + r * rowH + 14);
  }
  let x = left, y = top + days * rowH + 12;
  const names = {};
  segments.forEach(s => { names[s.playlist_id] = s.playlist_name || s.playlist_id || "（无）"; });
  for (const id in names) {
    g.fillStyle = colorOf(id === "null" ? null : id); g.fillRect(x, y - 8, 12, 12);
    g.fillStyle = "#333"; g.fillText(names[id], x + 16, y + 2); x += g.measureText(names[id]).width + 40;
  }
}

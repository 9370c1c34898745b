// Page script for meetings.html (external: the CSP allows no inline script).
"use strict";
poll("/api/meetings", (rows) => {
  const t = document.getElementById("meetings");
  t.innerHTML = t.rows[0].outerHTML + rows.map(m => `<tr><td><a href="/meetings/${encodeURIComponent(m.id)}">${esc(m.title)}</a></td>
    <td>${esc(m.meeting_type)}</td><td>${esc((m.starts_at || "").replace("T", " ").slice(0, 16))}</td><td>${esc(m.place)}</td>
    <td>${m.expected} / ${m.present}</td><td>${esc(m.status)}</td></tr>`).join("");
}, 5000);

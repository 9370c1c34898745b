// Page script for meeting.html (external: the CSP allows no inline script).
"use strict";
poll("/api/meetings/" + encodeURIComponent(pageData().meetingId) + "/attendance", (r) => {
  document.getElementById("rate").textContent = `应到 ${r.expected} 人，实到 ${r.present} 人` + (r.rate != null ? `，出勤率 ${(r.rate * 100).toFixed(0)}%` : "") + "（实时）";
  document.getElementById("att").innerHTML = "<tr>" + r.headers.map(h => `<th>${esc(h)}</th>`).join("") + "</tr>" +
    r.rows.map(row => "<tr>" + row.map(c => `<td>${esc(c)}</td>`).join("") + "</tr>").join("");
}, 3000);

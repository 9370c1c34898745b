// Page script for reports.html (external: the CSP allows no inline script).
"use strict";
(async function () {
  const play = await api("GET", "/api/reports/play");
  document.getElementById("play").innerHTML = "<tr>" + play.headers.map(h => `<th>${esc(h)}</th>`).join("") + "</tr>" +
    (play.rows.slice(0, 200).map(r => "<tr>" + r.map(c => `<td>${esc(c)}</td>`).join("") + "</tr>").join("") || "<tr><td class='muted'>暂无播放记录</td></tr>");
  const ex = await api("GET", "/api/reports/exhibits");
  barChart(document.getElementById("exhibits"), ex.exhibits.map(e => e.title), ex.exhibits.map(e => e.views), " 次");
  document.getElementById("tours").textContent = `完整参观 ${ex.tours_completed} 次，中途离开 ${ex.tours_abandoned} 次`;
  const pts = await api("GET", "/api/reports/points");
  barChart(document.getElementById("points"), pts.members.map(m => m.name), pts.members.map(m => m.points), " 分");
})();

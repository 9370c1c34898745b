// Page script for devices.html (external: the CSP allows no inline script).
"use strict";
(function () {
  const kinds = { kiosk: "触摸屏", vrhall: "3D展厅", robot: "机器人" };
  const canCommand = pageData().canCommand;
  poll("/api/devices?limit=1000", (res) => {
    document.getElementById("fleet-summary").textContent = `共 ${res.total} 台，在线 ${res.online} 台（每 3 秒刷新）`;
    const rows = res.devices.map(d => {
      const t = d.telemetry || {};
      const perf = [t.fps != null ? t.fps.toFixed(0) + "fps" : "", t.cpu_percent != null ? t.cpu_percent.toFixed(0) + "%" : "",
                    t.rss_mb != null ? t.rss_mb.toFixed(0) + "MB" : ""].filter(Boolean).join(" / ");
      const cmd = (c, label) => `<button class="secondary" data-api="POST /api/devices/${encodeURIComponent(d.id)}/commands" data-body='{"command":"${c}"}' data-then="none" data-done="命令已发送">${label}</button>`;
      return `<tr><td><a href="/devices/${encodeURIComponent(d.id)}">${esc(d.id)}</a></td><td>${esc(kinds[d.kind] || d.kind)}</td>
        <td>${esc(d.groups.join("、"))}</td><td class="${d.online ? "online" : "offline"}">${d.online ? "在线" : "离线"}</td>
        <td>${d.desired_version ?? "—"} / ${d.applied_version ?? "—"} ${d.in_sync ? '<span class="badge ok">已同步</span>' : (d.desired_version ? '<span class="badge submitted">未同步</span>' : "")}
        ${d.error ? '<div class="error-text">' + esc(d.error) + "</div>" : ""}</td>
        <td>${esc((d.last_seen || "—").replace("T", " ").slice(0, 19))}</td><td>${esc(perf || "—")}</td>
        <td class="row">${canCommand ? cmd("reload", "重新加载") + cmd("screenshot", "截屏") + cmd("restart", "重启") : ""}
        ${d.screenshot_url ? `<a href="${esc(d.screenshot_url)}" target="_blank"><img class="thumb" src="${esc(d.screenshot_url)}" alt="截图"></a>` : ""}</td></tr>`;
    }).join("");
    document.getElementById("devices").innerHTML = document.getElementById("devices").rows[0].outerHTML + rows;
  }, 3000);
})();

// Page script for alerts.html (external: the CSP allows no inline script).
"use strict";
(function () {
  const labels = { submitted: "待一级审核", approved_l1: "待二级审核", approved: "已批准", sent: "已发送", cancelled: "已撤销", rejected: "已退回" };
  poll("/api/alerts", (alerts) => {
    document.getElementById("alert-list").innerHTML = alerts.map(a => `
      <div class="card"><b>${esc(a.title)}</b> <span class="badge ${esc(a.status)}">${esc(labels[a.status] || a.status)}</span>
      → ${esc(a.groups.join("、"))} <span class="muted">到期 ${esc((a.expires_at || "").replace("T", " ").slice(0, 16))} UTC</span>
      <p>${esc(a.body)}</p>
      ${a.status === "sent" ? `<p>已确认 ${a.acks.length} 台；<span class="${a.not_acked.length ? "error-text" : ""}">未确认 ${a.not_acked.length} 台${a.not_acked.length ? "：" + esc(a.not_acked.join("、")) : ""}</span></p>` : ""}
      <div class="row">
      ${["submitted", "approved_l1"].includes(a.status) ? `<button data-api="POST /api/alerts/${a.id}/approve" data-comment="审核意见（可空）">审核通过</button>
        <button class="secondary" data-api="POST /api/alerts/${a.id}/reject" data-comment="退回意见（必填）">退回</button>` : ""}
      ${a.status === "sent" ? `<button data-api="POST /api/alerts/${a.id}/cancel" data-confirm="撤销后所有终端将清除此通知，确定？">撤销</button>` : ""}
      </div></div>`).join("") || "<p class='muted'>暂无紧急通知</p>";
  }, 3000);
})();

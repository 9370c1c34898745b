// Page script for schedule.html (external: the CSP allows no inline script).
"use strict";
(function () {
  const sel = document.getElementById("tl-group");
  async function draw() {
    if (!sel.value) return;
    const tl = await api("GET", "/api/groups/" + encodeURIComponent(sel.value) + "/timeline");
    timelineChart(document.getElementById("timeline"), tl.segments, 7);
    document.getElementById("tl-conflicts").textContent = tl.conflicts.length
      ? "排期冲突（同优先级且时间重叠，靠前的规则生效）：" + tl.conflicts.map(c => c.join(" 与 ")).join("；") : "";
  }
  sel.addEventListener("change", draw);
  draw();
})();

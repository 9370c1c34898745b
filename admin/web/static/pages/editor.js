// Page script for editor.html (external: the CSP allows no inline script).
"use strict";
(function () {
  const page = pageData();
  const schema = page.schema;
  const data = page.data;
  const itemId = page.itemId;
  const baseVersion = page.baseVersion;
  const collect = buildEditor(document.getElementById("editor"), schema, data,
                              { existing: !!itemId, base: { kind: page.kind } });
  document.getElementById("editor-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let body;
    try { body = collect(); } catch (e) { toast("字段格式不正确：" + e.message, true); return; }
    try {
      const res = itemId
        ? await api("PUT", "/api/items/" + encodeURIComponent(itemId), { data: body, base_version: baseVersion })
        : await api("POST", "/api/items", { data: body });
      toast("已保存");
      location.href = "/items/" + encodeURIComponent(res.id);
    } catch (e) {
      if (e.status === 409 && e.data && e.data.newest) {
        const box = document.getElementById("stale");
        box.style.display = "block";
        box.innerHTML = "<h2>内容已被他人修改</h2><p>最新为第 " + esc(e.data.newest.number) + " 版（" +
          esc(e.data.newest.status) + "）。请复制您的修改，刷新后在最新版本上编辑。</p><pre class='mono'>" +
          esc(JSON.stringify(e.data.newest.data, null, 2)) + "</pre>";
      }
      toast(e.message, true);
    }
  });
})();

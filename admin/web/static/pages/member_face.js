// Page script for member_face.html (external: the CSP allows no inline script).
// Photos go to POST /api/members/{id}/face as multipart; the API does every
// check again (consent, role, size, type), this page only explains the answers.
"use strict";
(function () {
  const page = pageData();
  const base = "/api/members/" + encodeURIComponent(page.memberId) + "/face";
  const $ = (id) => document.getElementById(id);
  const form = $("face-form");
  const chosen = [];  // {file, url}

  function showError(title, text) {
    const box = $("face-error");
    if (!box) { toast(title + "：" + text, true); return; }
    box.innerHTML = "<p class='error-text'><b>" + esc(title) + "</b></p>" + (text ? "<p>" + esc(text) + "</p>" : "");
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  function clearError() { const box = $("face-error"); if (box) { box.hidden = true; box.textContent = ""; } }

  // Each status the enrolment API answers, in words an editor can act on.
  function explain(err) {
    const detail = err.message || "";
    switch (err.status) {
      case 401: return ["登录已过期", "请刷新页面并重新登录后再上传。"];
      case 403: return /CSRF/.test(detail) ? ["页面已过期", "请刷新页面后重试。"]
        : ["没有权限", detail + "（只有编辑和管理员可以录入人脸）"];
      case 404: return ["党员不存在", "该党员可能已被删除，请返回党员名册。"];
      case 409: return ["未记录本人同意，不能录入", detail];
      case 413: return ["照片过大", detail + "。请换一张较小的照片（每张不超过 " + Math.floor(page.maxBytes / 1048576) + " MB）。"];
      case 415: return ["照片格式不支持", detail + "。只接受 JPEG 或 PNG；HEIC 等格式请先转换。"];
      case 422: return ["没有可用的照片", detail];
      case 503: return ["人脸库未配置，暂时不能录入", detail + "。" + page.operatorHint];
      default: return ["上传失败", detail || ("服务器返回 " + err.status)];
    }
  }

  function renderChosen() {
    const box = $("face-thumbs");
    box.innerHTML = "";
    chosen.forEach((c, i) => {
      const fig = document.createElement("figure");
      fig.className = "face-thumb";
      fig.innerHTML = "<img alt='第 " + (i + 1) + " 张'><figcaption>" + esc(c.file.name) + "<br>" +
        (c.file.size / 1048576).toFixed(1) + " MB</figcaption><button type='button' class='secondary'>移除</button>";
      fig.querySelector("img").src = c.url;
      fig.querySelector("button").addEventListener("click", () => {
        URL.revokeObjectURL(c.url);
        chosen.splice(i, 1);
        renderChosen();
      });
      box.appendChild(fig);
    });
    $("face-count").textContent = chosen.length ? "已选 " + chosen.length + " / " + page.maxPhotos + " 张" : "尚未选择照片";
    $("face-upload").disabled = chosen.length === 0;
  }

  function addFiles(input) {
    clearError();
    const refused = [];
    for (const file of input.files) {
      if (chosen.length >= page.maxPhotos) { refused.push(file.name + "：最多 " + page.maxPhotos + " 张"); continue; }
      if (file.size > page.maxBytes) { refused.push(file.name + "：超过 " + Math.floor(page.maxBytes / 1048576) + " MB"); continue; }
      if (file.type && !/^image\/(jpeg|png)$/.test(file.type)) { refused.push(file.name + "：不是 JPEG 或 PNG"); continue; }
      chosen.push({ file, url: URL.createObjectURL(file) });
    }
    input.value = "";  // choosing the same file again must fire "change" again
    if (refused.length) showError("以下照片未加入", refused.join("；"));
    renderChosen();
  }

  function renderResults(photos, summary) {
    const table = $("face-result-table");
    table.innerHTML = table.rows[0].outerHTML + photos.map(p => `<tr class="${p.used ? "used" : "unused"}">
      <td>第 ${esc(p.index)} 张</td><td>${esc(p.filename)}</td><td>${esc(p.faces)} 张</td>
      <td>${p.used ? '<span class="badge ok">已采用</span>' : '<span class="badge bad">未采用</span> ' + esc(p.problem || "")}</td></tr>`).join("");
    $("face-summary-line").textContent = summary;
    $("face-results").hidden = false;
  }

  function renderStatus(embeddings, photosKept) {
    $("face-status").innerHTML = embeddings
      ? `<span class="badge ok">已录入</span> ${esc(embeddings)} 条特征${photosKept ? "，保存照片 " + esc(photosKept) + " 张" : ""}`
      : '<span class="badge">未录入</span>';
    const card = $("face-delete-card");
    if (card) card.hidden = !embeddings;
  }

  if (form) {
    $("face-files").addEventListener("change", (ev) => addFiles(ev.target));
    $("face-camera").addEventListener("change", (ev) => addFiles(ev.target));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!chosen.length) return;
      clearError();
      $("face-results").hidden = true;
      const body = new FormData();
      chosen.forEach(c => body.append("photos", c.file, c.file.name));
      const merge = $("face-merge").checked;
      $("face-upload").disabled = true;
      $("face-busy").textContent = "正在识别人脸，请稍候……";
      try {
        const res = await api("POST", base + "?merge=" + merge, body, true);
        const used = res.photos.filter(p => p.used).length;
        renderResults(res.photos, `已录入：采用 ${used} / ${res.photos.length} 张照片，现有 ${res.embeddings} 条人脸特征。`);
        renderStatus(res.embeddings, res.photos_kept);
        chosen.splice(0).forEach(c => URL.revokeObjectURL(c.url));
        renderChosen();
        toast("人脸已录入");
      } catch (err) {
        const [title, text] = explain(err);
        if (err.data && Array.isArray(err.data.photos)) renderResults(err.data.photos, "没有录入任何人脸特征。");
        if (err.status === 409) {  // consent was withdrawn since this page was drawn
          const badge = $("consent-state");
          badge.className = "badge bad";
          badge.textContent = "未记录同意";
        }
        showError(title, text);
      } finally {
        $("face-busy").textContent = "";
        $("face-upload").disabled = chosen.length === 0;
      }
    });
  }

  const del = $("face-delete");
  if (del) {
    del.addEventListener("click", async () => {
      const withdraw = $("face-withdraw").checked;
      const question = "删除 " + page.memberName + " 的全部人脸特征和照片" + (withdraw ? "，并记为本人撤回同意" : "") + "？删除后无法恢复。";
      if (!confirm(question)) return;
      del.disabled = true;
      try {
        await api("DELETE", base + "?withdraw_consent=" + withdraw);
        toast("人脸数据已删除");
        // The server page redraws consent and the form from the new state.
        setTimeout(() => location.reload(), 500);
      } catch (err) {
        const [title, text] = explain(err);
        showError(title, text);
        del.disabled = false;
      }
    });
  }
})();

// Item editor built from the item kind's JSON schema (the same pydantic model
// the kiosks read), so every kind is editable without a hand-written form.
"use strict";

const LABELS = {
  id: "编号", title: "标题", important: "重要内容（需二级审核）", tags: "标签（每行一个）", summary: "摘要", body: "正文",
  images: "图片", image: "图片", audio: "音频", model: "3D 模型", published_on: "发布日期", source: "来源",
  urgent: "紧急", valid_from: "生效日期", valid_to: "失效日期", points: "学习积分", questions: "题目",
  points_per_question: "每题积分", section: "栏目", steps: "办理步骤（每行一步）", contacts: "联系人（JSON）",
  category: "类别", year: "年份", caption: "说明", narration: "讲解词", aliases: "别名（每行一个）",
  answer: "答案", meeting_type: "会议类型", branch_id: "支部编号", place: "地点", starts_at: "开始时间",
  ends_at: "结束时间", expected_members: "应到党员编号（每行一个）", check_in_devices: "签到设备（每行一个）",
  parent_id: "上级组织", lat: "纬度", lon: "经度", member_count: "党员人数", secretary: "书记", address: "地址",
  phone: "电话",
};
const LONG_TEXT = new Set(["body", "narration", "answer", "summary", "caption"]);
const SKIP = new Set(["kind", "version_sha256"]);

function refName(s) { return s && s.$ref ? s.$ref.split("/").pop() : null; }
function unwrap(s) {
  if (s.anyOf) { const nn = s.anyOf.filter(x => x.type !== "null"); if (nn.length === 1) return [nn[0], true]; }
  return [s, false];
}

function fieldKind(name, prop, defs) {
  const [s, nullable] = unwrap(prop);
  if (refName(s) === "MediaRef") return ["media1", nullable];
  if (s.type === "array" && refName(s.items) === "MediaRef") return ["mediaN", nullable];
  if (s.type === "array" && s.items && s.items.type === "string") return ["lines", nullable];
  if (s.enum || s.const !== undefined) return ["select", nullable];
  if (s.type === "boolean") return ["bool", nullable];
  if (s.type === "integer" || s.type === "number") return [s.type, nullable];
  if (s.type === "string" && s.format === "date") return ["date", nullable];
  if (s.type === "string") return [LONG_TEXT.has(name) ? "text" : "string", nullable];
  return ["json", nullable];
}

function mediaPreview(ref) {
  const img = ref.mime && ref.mime.startsWith("image/") ? `<img class="thumb" src="/media/${esc(ref.sha256)}" alt="">` : "";
  return `<span class="media-ref" data-ref='${esc(JSON.stringify(ref))}'>${img}
    <span class="muted">${esc(ref.name || ref.sha256.slice(0, 12))} (${esc(ref.mime)})</span>
    <button type="button" class="secondary" data-remove-ref>移除</button></span>`;
}

// One delegated listener instead of inline onclick handlers, which the CSP forbids.
document.addEventListener("click", (ev) => {
  const button = ev.target.closest && ev.target.closest("[data-remove-ref]");
  if (button) button.parentElement.remove();
});

function buildEditor(root, schema, data, opts) {
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const fields = [];
  let html = "";
  for (const [name, prop] of Object.entries(props)) {
    if (SKIP.has(name) || (name === "id" && opts.existing)) continue;
    const [kind, nullable] = fieldKind(name, prop, schema.$defs || {});
    const label = LABELS[name] || name;
    const value = data[name] ?? prop.default ?? (kind === "bool" ? false : "");
    const star = required.has(name) ? " *" : "";
    const fid = "f_" + name;
    fields.push({ name, kind, nullable });
    if (kind === "bool") {
      html += `<label><input type="checkbox" id="${fid}" ${value ? "checked" : ""}> ${esc(label)}</label>`;
      continue;
    }
    html += `<label for="${fid}">${esc(label)}${star}</label>`;
    if (kind === "text") html += `<textarea id="${fid}" rows="6">${esc(value)}</textarea>`;
    else if (kind === "string") html += `<input id="${fid}" style="width:100%" value="${esc(value)}">`;
    else if (kind === "date") html += `<input id="${fid}" type="date" value="${esc(value || "")}">`;
    else if (kind === "integer" || kind === "number") html += `<input id="${fid}" type="number" step="${kind === "integer" ? 1 : "any"}" value="${esc(value ?? "")}">`;
    else if (kind === "select") {
      const [s] = unwrap(prop);
      const options = s.enum || [s.const];
      html += `<select id="${fid}">${options.map(o => `<option ${o === value ? "selected" : ""}>${esc(o)}</option>`).join("")}</select>`;
    } else if (kind === "lines") html += `<textarea id="${fid}" rows="3">${esc((value || []).join("\n"))}</textarea>`;
    else if (kind === "media1" || kind === "mediaN") {
      const refs = kind === "media1" ? (value ? [value] : []) : (value || []);
      html += `<div id="${fid}" class="media-field">${refs.map(mediaPreview).join("")}</div>
        <input type="file" data-for="${fid}" data-multi="${kind === "mediaN"}" accept="image/*,audio/*,video/mp4" ${kind === "mediaN" ? "multiple" : ""}>`;
    } else html += `<textarea id="${fid}" rows="5" class="mono">${esc(JSON.stringify(value === "" ? (prop.default ?? []) : value, null, 2))}</textarea>`;
  }
  root.innerHTML = html;
  root.querySelectorAll('input[type="file"]').forEach(input => input.addEventListener("change", async () => {
    const box = document.getElementById(input.dataset.for);
    for (const file of input.files) {
      const fd = new FormData(); fd.append("file", file);
      try {
        const up = await api("POST", "/api/media", fd, true);
        const ref = { sha256: up.sha256, mime: up.mime, size: up.size, name: up.name, width: up.width, height: up.height };
        if (input.dataset.multi !== "true") box.innerHTML = "";
        box.insertAdjacentHTML("beforeend", mediaPreview(ref));
        toast("已上传 " + up.name);
      } catch (e) { toast(e.message, true); }
    }
    input.value = "";
  }));
  return function collect() {
    const out = Object.assign({}, opts.base || {});
    for (const f of fields) {
      const el = document.getElementById("f_" + f.name);
      let v;
      if (f.kind === "bool") v = el.checked;
      else if (f.kind === "integer") v = el.value === "" ? null : parseInt(el.value, 10);
      else if (f.kind === "number") v = el.value === "" ? null : parseFloat(el.value);
      else if (f.kind === "lines") v = el.value.split("\n").map(x => x.trim()).filter(Boolean);
      else if (f.kind === "media1" || f.kind === "mediaN") {
        const refs = [...el.querySelectorAll(".media-ref")].map(x => JSON.parse(x.dataset.ref));
        v = f.kind === "media1" ? (refs[0] || null) : refs;
      } else if (f.kind === "json") v = JSON.parse(el.value || "null");
      else v = el.value;
      if (f.name === "id" && v === "") continue;  // the server makes one up
      if ((v === "" || v === null) && f.nullable) v = null;
      if (v === "" && f.kind !== "string" && f.kind !== "text") continue;
      if (v === null && !f.nullable) continue;
      out[f.name] = v;
    }
    return out;
  };
}

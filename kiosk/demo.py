"""A demo manifest with generated media, for offline development, tests and
the benchmark. Images are drawn with Pillow, named by their sha256, so the
kiosk loads them exactly as it loads media fetched from the admin."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import struct
import wave
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from content.fonts import cjk_font_path
from content.model import Manifest, MediaRef

TZ = ZoneInfo("Asia/Shanghai")
RED, DEEP, GOLD, CREAM = (200, 16, 46), (110, 7, 22), (217, 165, 32), (250, 245, 236)
BOUNDS = dict(lat_min=30.20, lat_max=30.36, lon_min=120.05, lon_max=120.30)


def _store(media_dir: Path, data: bytes, mime: str, name: str, size: tuple[int, int] | None = None) -> MediaRef:
    sha = hashlib.sha256(data).hexdigest()
    (media_dir / sha).write_bytes(data)
    return MediaRef(sha256=sha, mime=mime, size=len(data), name=name,
                    width=size[0] if size else None, height=size[1] if size else None)


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(cjk_font_path()), size)


def _picture(media_dir: Path, title: str, seed: int, size=(1280, 720)) -> MediaRef:
    """A poster-like picture: warm gradient, rays, a star and a caption."""
    w, h = size
    img = Image.new("RGB", size, RED)
    draw = ImageDraw.Draw(img)
    top = [(200, 16, 46), (160, 20, 30), (190, 60, 20), (120, 10, 40)][seed % 4]
    for y in range(h):
        t = y / h
        draw.line([(0, y), (w, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, DEEP)))
    cx, cy = int(w * (0.25 + 0.5 * ((seed * 37) % 10) / 10)), int(h * 0.42)
    for i in range(18):
        a = i * math.pi / 9 + seed
        draw.polygon([(cx, cy), (cx + 2000 * math.cos(a), cy + 2000 * math.sin(a)),
                      (cx + 2000 * math.cos(a + 0.08), cy + 2000 * math.sin(a + 0.08))], fill=(215, 60, 50))
    pts = []
    for i in range(10):
        r = 90 if i % 2 == 0 else 36
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    draw.polygon(pts, fill=GOLD)
    for i in range(5):  # skyline
        bx = int(w * i / 5)
        bh = int(h * (0.12 + 0.08 * ((seed + i) % 3)))
        draw.rectangle([bx + 20, h - bh, bx + w // 5 - 20, h], fill=(90, 6, 18))
    draw.text((48, 40), title, font=_font(44), fill=(255, 236, 190))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85)
    return _store(media_dir, buf.getvalue(), "image/jpeg", f"{title}.jpg", size)


def _map(media_dir: Path, size=(1600, 1000)) -> MediaRef:
    """A schematic district map: blocks, roads, a river, a park."""
    w, h = size
    img = Image.new("RGB", size, (246, 240, 226))
    draw = ImageDraw.Draw(img)
    for gx in range(0, w, 160):
        for gy in range(0, h, 140):
            draw.rectangle([gx + 14, gy + 14, gx + 146, gy + 126], fill=(236, 226, 204))
    draw.ellipse([980, 120, 1360, 420], fill=(206, 228, 196))
    draw.text((1090, 250), "人民公园", font=_font(34), fill=(80, 120, 70))
    river = [(0, 700), (300, 650), (600, 720), (900, 640), (1200, 700), (1600, 620)]
    draw.line(river, fill=(170, 205, 230), width=60, joint="curve")
    for y in (140, 420, 840):
        draw.line([(0, y), (w, y)], fill=(255, 255, 255), width=22)
    for x in (320, 800, 1280):
        draw.line([(x, 0), (x, h)], fill=(255, 255, 255), width=22)
    draw.line([(0, 0), (w, h)], fill=(255, 250, 235), width=16)
    draw.text((40, 40), "示意图 · 非实际比例", font=_font(30), fill=(150, 130, 110))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return _store(media_dir, buf.getvalue(), "image/png", "map.png", size)


def _tone(media_dir: Path, seconds: float = 2.0) -> MediaRef:
    """A short chime standing in for recorded narration."""
    rate = 16000
    frames = b"".join(
        struct.pack("<h", int(6000 * math.sin(2 * math.pi * 660 * i / rate) * math.exp(-3 * i / rate / seconds)))
        for i in range(int(rate * seconds)))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return _store(media_dir, buf.getvalue(), "audio/wav", "narration.wav")


LONG_BODY = (
    "为深入学习贯彻党的二十大精神，进一步加强基层党组织建设，本月各支部围绕“学思想、强党性、重实践、建新功”的总要求，"
    "扎实开展主题党日活动。活动中，党员同志们重温入党誓词，集中学习《中国共产党章程》和《中国共产党支部工作条例（试行）》，"
    "交流学习体会，查找自身不足。\n"
    "各支部结合工作实际，组织党员深入社区开展志愿服务，走访困难群众，解决群众急难愁盼问题二十余件。"
    "大家纷纷表示，要把学习成果转化为推动工作的强大动力，立足岗位作贡献，以实际行动践行初心使命。\n"
)


def build_demo(media_dir: Path, now: dt.datetime | None = None, site_id: str = "demo-site",
               group: str = "lobby") -> Manifest:
    media_dir = Path(media_dir)
    media_dir.mkdir(parents=True, exist_ok=True)
    now = (now or dt.datetime.now(TZ)).astimezone(TZ)
    today = now.date()
    pics = [_picture(media_dir, t, i) for i, t in enumerate(
        ["主题党日活动", "志愿服务进社区", "党史学习教育", "先锋模范表彰", "红色教育基地"])]
    items: list[dict] = []
    news_titles = ["各支部扎实开展主题党日活动", "党员志愿服务队走进社区送温暖", "党史学习教育专题报告会举行",
                   "2026年度优秀共产党员表彰大会召开", "赴红色教育基地开展现场教学"]
    for i, title in enumerate(news_titles):
        items.append(dict(kind="news", id=f"news-{i + 1}", title=title,
                          summary="本月各支部围绕总要求扎实开展活动，党员同志们重温入党誓词、交流学习体会。",
                          body=LONG_BODY * (3 if i == 0 else 1), images=[pics[i].model_dump()],
                          published_on=str(today - dt.timedelta(days=i)), source="机关党委"))
    items += [
        dict(kind="notice", id="notice-urgent", title="关于开展安全隐患排查的紧急通知", urgent=True,
             body="请各支部于本周五前完成办公区域安全隐患排查，并将排查情况报机关党委。",
             valid_from=str(today - dt.timedelta(days=1)), valid_to=str(today + dt.timedelta(days=6))),
        dict(kind="notice", id="notice-dues", title="关于按时交纳第四季度党费的通知",
             body="请全体党员于本月25日前交纳党费，可在本终端“便民服务”中计算应交金额。",
             valid_from=str(today - dt.timedelta(days=3)), valid_to=str(today + dt.timedelta(days=20))),
        dict(kind="notice", id="notice-study", title="“三会一课”制度落实情况检查安排",
             body="机关党委将于下月上旬对各支部“三会一课”落实情况进行检查。",
             valid_from=str(today), valid_to=str(today + dt.timedelta(days=30))),
        dict(kind="notice", id="notice-old", title="（已过期）国庆假期值班安排", body="已过期的通知。",
             valid_from=str(today - dt.timedelta(days=60)), valid_to=str(today - dt.timedelta(days=30))),
    ]
    items += [
        dict(kind="lesson", id="lesson-1", title="党章学习：党员的八项义务", images=[pics[2].model_dump()],
             audio=_tone(media_dir).model_dump(), points=5,
             body="党员必须履行下列义务：（一）认真学习马克思列宁主义、毛泽东思想、邓小平理论、“三个代表”重要思想、"
                  "科学发展观、习近平新时代中国特色社会主义思想……\n（二）贯彻执行党的基本路线和各项方针、政策，"
                  "带头参加改革开放和社会主义现代化建设。\n" * 3),
        dict(kind="lesson", id="lesson-2", title="“三会一课”制度解读", points=3, images=[pics[4].model_dump()],
             body="“三会一课”是指定期召开支部党员大会、支部委员会、党小组会，按时上好党课。" * 4),
        dict(kind="quiz", id="quiz-1", title="党章知识测验", points_per_question=2, questions=[
            dict(text="党的最高领导机关是？", options=["党的全国代表大会和它所产生的中央委员会", "中央政治局",
                                                    "中央书记处", "中央军事委员会"], correct=[0],
                 explanation="党章规定：党的最高领导机关，是党的全国代表大会和它所产生的中央委员会。"),
            dict(text="“三会一课”中的“三会”包括哪些？（多选）", options=["支部党员大会", "支部委员会", "党小组会",
                                                               "职工代表大会"], correct=[0, 1, 2], multiple=True,
                 explanation="“三会”指支部党员大会、支部委员会和党小组会。"),
            dict(text="预备党员的预备期为几年？", options=["半年", "一年", "两年"], correct=[1],
                 explanation="党章规定：预备党员的预备期为一年。"),
        ]),
    ]
    items += [
        dict(kind="service", id="svc-transfer", title="组织关系转接指南", section="transfer",
             body="党员因工作调动、升学等原因需转接组织关系的，请按以下步骤办理：",
             steps=["向所在党支部提出申请，说明转出原因和去向", "党支部审核后报上级党委开具介绍信",
                    "在全国党员管理信息系统中发起转接", "持介绍信到接收党组织报到（三个月内）",
                    "接收党组织确认后完成转接"]),
        dict(kind="service", id="svc-contacts", title="联系我们", section="contacts", contacts=[
            dict(name="王红", role="机关党委组织员", phone="0571-8800 1234", place="行政楼 302 室"),
            dict(name="李建国", role="第一支部书记", phone="0571-8800 2345", place="研发楼 501 室"),
            dict(name="陈雪梅", role="党费收缴专管员", phone="0571-8800 3456", place="行政楼 305 室")]),
        dict(kind="faq", id="faq-1", title="党费", questions=["党费按什么基数计算？"],
             answer="在职党员以每月工资总额扣除个人所得税及社会保险等后的税后工资性收入为计算基数。"),
        dict(kind="faq", id="faq-2", title="转接", questions=["组织关系转接需要多长时间？"],
             answer="一般在一个月内办结，持介绍信须在三个月内到接收党组织报到。"),
        dict(kind="faq", id="faq-3", title="积分", questions=["学习积分怎样获得？"],
             answer="在本终端登录后完成课程学习和知识测验即可获得积分，由管理后台统一记录。"),
    ]
    branches = [("branch-1", "机关第一党支部", 30.31, 120.10, 28), ("branch-2", "机关第二党支部", 30.26, 120.17, 35),
                ("branch-3", "研发中心党支部", 30.33, 120.24, 42), ("branch-4", "社区联合党支部", 30.23, 120.27, 19),
                ("branch-5", "离退休党支部", 30.28, 120.07, 23), ("branch-bad", "位置待补充党支部", 91.0, 120.1, 12)]
    for bid, name, lat, lon, count in branches:
        items.append(dict(kind="organisation", id=bid, title=name, lat=lat, lon=lon, member_count=count,
                          secretary="张明", address="文化路 88 号", phone="0571-8800 0000"))
    day = dt.datetime.combine(today, dt.time(0, 0))
    meeting_specs = [
        ("mtg-now", "branch-1", "支部党员大会", "11月主题党日支部党员大会", now.replace(tzinfo=None, second=0,
                                                                     microsecond=0) - dt.timedelta(minutes=30), 2),
        ("mtg-today", "branch-2", "党课", "书记讲党课：弘扬伟大建党精神", day + dt.timedelta(hours=15), 1.5),
        ("mtg-week-1", "branch-3", "支委会", "研发中心支委会", day + dt.timedelta(days=1, hours=9), 1),
        ("mtg-week-2", "branch-4", "党小组会", "第二党小组学习会", day + dt.timedelta(days=2, hours=14), 1),
        ("mtg-past", "branch-1", "支委会", "十月支委会", day - dt.timedelta(days=25, hours=-9), 1),
        ("mtg-past-2", "branch-2", "支部党员大会", "第三季度党员大会", day - dt.timedelta(days=20, hours=-14), 2),
    ]
    for mid, bid, mtype, title, start, hours in meeting_specs:
        items.append(dict(kind="meeting", id=mid, title=title, meeting_type=mtype, branch_id=bid,
                          place="党员活动室", starts_at=start.isoformat(),
                          ends_at=(start + dt.timedelta(hours=hours)).isoformat(),
                          expected_members=[f"m{i:03d}" for i in range(12)]))
    for i, (cat, title, year) in enumerate([("集体荣誉", "先进基层党组织", 2025), ("个人荣誉", "优秀共产党员", 2025),
                                           ("集体荣誉", "五好党支部", 2024), ("个人荣誉", "优秀党务工作者", 2023),
                                           ("集体荣誉", "党建工作示范点", 2023)]):
        items.append(dict(kind="honour", id=f"honour-{i}", title=title, category=cat, year=year,
                          body=f"{year}年荣获“{title}”称号。", image=pics[(i + 3) % 5].model_dump()))
    for i, (cat, title, year) in enumerate([("文献", "建厂初期党组织成立决议", 1958), ("照片", "第一次党员大会合影", 1958),
                                           ("文献", "改革开放动员报告", 1979), ("实物", "老党员的入党志愿书", 1985),
                                           ("照片", "抗洪抢险党员突击队", 1998)]):
        items.append(dict(kind="archive", id=f"archive-{i}", title=title, category=cat, year=year,
                          body=f"{year}年 · {title}。" + "史料记载了党组织在各个历史时期的奋斗足迹。" * 3,
                          images=[pics[i % 5].model_dump()]))
    names = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴霞", "徐涛", "孙丽"]
    points = [dict(member_no=f"1000{i:02d}", name=n, branch_id=branches[i % 5][0], points=120 - i * 7 - (i % 3) * 2)
              for i, n in enumerate(names)]
    manifest = dict(
        site_id=site_id, group=group, version=1, created_at=now.timestamp(), items=items,
        playlists=[dict(id="pl-day", name="日间轮播", entries=[
            dict(item_id="news-1", duration_s=8), dict(item_id="notice-urgent", duration_s=6),
            dict(item_id="news-2", duration_s=8), dict(item_id="lesson-1", duration_s=6),
            dict(item_id="honour-0", duration_s=6)])],
        schedule=dict(timezone="Asia/Shanghai", default_playlist_id="pl-day"),
        map=dict(image=_map(media_dir).model_dump(), **BOUNDS),
        stats=dict(points=points, attendance=[dict(meeting_id="mtg-past", expected=12, present=11),
                                              dict(meeting_id="mtg-past-2", expected=30, present=27)]),
        settings=dict(title="智慧党建展厅", idle_s=90),
    )
    return Manifest.model_validate(manifest)


def write_demo(target: Path, now: dt.datetime | None = None) -> Path:
    """Write ``manifest.json`` and ``media/`` under ``target``; returns the manifest path."""
    target = Path(target)
    manifest = build_demo(target / "media", now)
    path = target / "manifest.json"
    path.write_text(manifest.model_dump_json(indent=1), encoding="utf-8")
    return path

"""The demo hall's content: party history exhibits, news, notices, lessons,
quizzes, services, honours, archive, FAQ, a 三会一课 schedule, branches with
coordinates, playlists with dayparting, and original pictures.

Texts live in ``content/data/demo.yaml``; dates are relative to ``today`` so
the demo always looks current. Everything is deterministic for a given
``today``: building twice gives the same manifest bytes, so republishing the
demo is a no-op.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from .demo_art import MapMarker, Picture, district_map, poster
from .model import (
    DEFAULT_TZ,
    ArchiveDoc,
    Contact,
    Exhibit,
    FaqEntry,
    Honour,
    ItemBase,
    Lesson,
    Manifest,
    MapInfo,
    MediaRef,
    Meeting,
    News,
    Notice,
    Organisation,
    Playlist,
    PlaylistEntry,
    Quiz,
    QuizQuestion,
    Schedule,
    ScheduleRule,
    ServicePage,
)
from .signing import sha256_hex
from .store import MediaStore

TZ = ZoneInfo(DEFAULT_TZ)

# Which item kinds each demo device group needs.
DEMO_GROUPS: dict[str, frozenset[str]] = {
    "lobby": frozenset({"news", "notice", "lesson", "quiz", "service", "honour", "archive", "exhibit", "faq",
                        "meeting", "organisation"}),
    "hall": frozenset({"exhibit", "notice"}),
    "robots": frozenset({"faq", "exhibit", "meeting", "organisation", "service"}),
}

_SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾"
_GIVEN = ["建华", "秀英", "志强", "丽娟", "国庆", "海燕", "伟", "静", "敏", "磊", "洋", "勇", "军", "杰", "娜",
          "红梅", "晓东", "春燕", "立新", "卫东", "桂英", "文博", "思远", "雨晴", "子涵", "佳怡", "浩然", "欣怡"]


@dataclass(frozen=True)
class DemoMember:
    """A fictional party member (for meetings and attendance demos)."""

    id: str
    name: str
    branch_id: str


@dataclass
class DemoContent:
    today: dt.date
    items: list[ItemBase]
    playlists: list[Playlist]
    schedule: Schedule  # the lobby's: the dayparting example
    schedules: dict[str, Schedule]  # per device group
    map: MapInfo
    groups: dict[str, set[str]]
    members: list[DemoMember] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)  # exhibit rooms, in order
    hall: dict[str, str] = field(default_factory=dict)

    def item(self, item_id: str) -> ItemBase | None:
        return next((item for item in self.items if item.id == item_id), None)

    def of_kind(self, kind: str) -> list[Any]:
        return [item for item in self.items if item.kind == kind]


@lru_cache(maxsize=1)
def demo_data() -> dict[str, Any]:
    text = (importlib.resources.files("content") / "data" / "demo.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _media(store: MediaStore | None, picture: Picture, name: str) -> MediaRef:
    sha = store.put_bytes(picture.data) if store is not None else sha256_hex(picture.data)
    ext = "jpg" if picture.mime == "image/jpeg" else "png"
    return MediaRef(sha256=sha, mime=picture.mime, size=len(picture.data), name=f"{name}.{ext}",
                    width=picture.width, height=picture.height)


def _art(store: MediaStore | None, name: str, title: str, subtitle: str, art: dict[str, Any] | None) -> MediaRef:
    art = art or {}
    lines = tuple(art["lines"]) if art.get("lines") else None
    if lines and "".join(lines) != title:
        raise ValueError(f"demo art lines {lines} do not spell the title {title!r}")
    picture = poster(title, art.get("subtitle", subtitle), motif=art.get("motif", "rays"),
                     palette=art.get("palette", "red"), lines=lines)
    return _media(store, picture, name)


# -- meetings (三会一课) -------------------------------------------------------------

def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def demo_members(branches: list[Organisation]) -> list[DemoMember]:
    members = []
    for b_index, branch in enumerate(branches):
        short = branch.id.removeprefix("org-")
        for n in range(branch.member_count):
            k = b_index * 131 + n * 7
            name = _SURNAMES[k % len(_SURNAMES)] + _GIVEN[(k // len(_SURNAMES) + n) % len(_GIVEN)]
            members.append(DemoMember(id=f"m-{short}-{n + 1:03d}", name=name, branch_id=branch.id))
    return members


def demo_meetings(today: dt.date, branches: list[Organisation], members: list[DemoMember]) -> list[Meeting]:
    """Two weeks of 三会一课 from ``today``, on working days, plus today's
    theme-day lesson in the hall (so check-in can be shown whenever the demo runs)."""
    workdays = [today + dt.timedelta(days=n) for n in range(14) if (today + dt.timedelta(days=n)).weekday() < 5]
    by_branch: dict[str, list[str]] = {}
    for member in members:
        by_branch.setdefault(member.branch_id, []).append(member.id)
    meetings = []
    for index, branch in enumerate(branches):
        ids = by_branch.get(branch.id, [])
        short = branch.id.removeprefix("org-")
        plan = [
            ("支委会", workdays[index % len(workdays)], 9, 0, 60, "党群服务中心二楼201会议室", ids[:5]),
            ("党小组会", workdays[(index + 3) % len(workdays)], 14, 30, 60, branch.address, ids[:12]),
            ("支部党员大会", workdays[(index + 6) % len(workdays)], 15, 0, 90, "党建展厅多功能厅", ids),
        ]
        if index % 2 == 0:
            plan.append(("党课", workdays[(index + 8) % len(workdays)], 14, 0, 90, "党建展厅", ids))
        for meeting_type, day, hour, minute, length, place, expected in plan:
            start = _at(day, hour, minute)
            meetings.append(Meeting(
                id=f"mtg-{short}-{day:%m%d}-{len(meetings)}",
                title=f"{branch.title}{meeting_type}",
                meeting_type=meeting_type, branch_id=branch.id, place=place,
                starts_at=start, ends_at=start + dt.timedelta(minutes=length),
                expected_members=list(expected),
            ))
    first = branches[0]
    meetings.append(Meeting(
        id=f"mtg-theme-{today:%m%d}", title="主题党日党课：走进党建展厅", meeting_type="党课",
        branch_id=first.id, place="党建展厅", starts_at=_at(today, 9), ends_at=_at(today, 17, 30),
        expected_members=[m.id for m in members if m.branch_id == first.id],
    ))
    return sorted(meetings, key=lambda m: (m.starts_at, m.id))


# -- playlists and schedules ----------------------------------------------------

def _entries(ids: list[str], seconds: float) -> list[PlaylistEntry]:
    return [PlaylistEntry(item_id=item_id, duration_s=seconds) for item_id in ids]


def demo_playlists(items: list[ItemBase], today: dt.date) -> tuple[list[Playlist], dict[str, Schedule]]:
    def ids(kind: str) -> list[str]:
        return [item.id for item in items if item.kind == kind]

    exhibits = sorted((i for i in items if i.kind == "exhibit"), key=lambda e: (e.year or 0, e.id))
    exhibit_ids = [e.id for e in exhibits]
    urgent_first = sorted(ids("notice"), key=lambda i: not next(x for x in items if x.id == i).urgent)
    playlists = [
        Playlist(id="lobby-loop", name="大厅默认轮播",
                 entries=_entries(ids("news"), 12) + _entries(urgent_first, 10) + _entries(ids("honour"), 8)
                 + _entries(exhibit_ids[::3], 10)),
        Playlist(id="lobby-morning", name="早间党情速递",
                 entries=_entries(urgent_first, 10) + _entries(ids("news"), 15) + _entries(["lesson-oath"], 20)),
        Playlist(id="lobby-lunch", name="午间学习时光",
                 entries=_entries(ids("lesson"), 30) + _entries(ids("quiz"), 30) + _entries(ids("archive"), 12)),
        Playlist(id="lobby-july", name="七一专题",
                 entries=_entries(["ex-1921-congress", "ex-1921-redboat", "ex-2021-centenary", "lesson-spirit"], 15)
                 + _entries(ids("news")[:2], 10)),
        Playlist(id="hall-tour", name="展厅全程导览", entries=_entries(exhibit_ids, 30)),
        Playlist(id="hall-highlights", name="周末精华导览",
                 entries=_entries(["ex-1921-congress", "ex-1921-redboat", "ex-1927-nanchang", "ex-1935-zunyi",
                                   "ex-1949-founding", "ex-1978-plenum", "ex-2021-centenary"], 40)),
        Playlist(id="robot-tour", name="机器人讲解路线", entries=_entries(exhibit_ids, 45)),
    ]
    weekdays = [0, 1, 2, 3, 4]
    july = dict(date_from=dt.date(today.year, 6, 25), date_to=dt.date(today.year, 7, 5))
    schedules = {
        "lobby": Schedule(default_playlist_id="lobby-loop", rules=[
            ScheduleRule(id="july-first", playlist_id="lobby-july", priority=10, **july),
            ScheduleRule(id="morning", playlist_id="lobby-morning", priority=1, weekdays=weekdays,
                         time_from=dt.time(8), time_to=dt.time(10)),
            ScheduleRule(id="lunch", playlist_id="lobby-lunch", priority=1, weekdays=weekdays,
                         time_from=dt.time(11, 30), time_to=dt.time(13, 30)),
        ]),
        "hall": Schedule(default_playlist_id="hall-tour", rules=[
            ScheduleRule(id="weekend", playlist_id="hall-highlights", priority=1, weekdays=[5, 6]),
        ]),
        "robots": Schedule(default_playlist_id="robot-tour"),
    }
    return playlists, schedules


# -- loading --------------------------------------------------------------------

def load_demo(store: MediaStore | None, *, today: dt.date | None = None) -> DemoContent:
    """Build the demo content; pictures go into ``store`` (named by hash).
    ``store=None`` only computes their hashes."""
    today = today or dt.datetime.now(TZ).date()
    data = demo_data()
    section_names = {s["id"]: s["name"] for s in data["sections"]}
    items: list[ItemBase] = []

    for raw in data["exhibits"]:
        name = section_names[raw["section"]]
        items.append(Exhibit(
            id=raw["id"], title=raw["title"], section=name, year=raw["year"], caption=raw["caption"],
            narration=raw["narration"], aliases=raw.get("aliases", []), tags=[name, str(raw["year"])],
            important=raw["year"] in (1921, 1949, 2021),
            image=_art(store, raw["id"], raw["title"], f"{raw['year']}年", raw.get("art")),
        ))
    for raw in data["news"]:
        published = today - dt.timedelta(days=raw["days_ago"])
        items.append(News(
            id=raw["id"], title=raw["title"], summary=raw["summary"], body=raw["body"], published_on=published,
            source="红星街道党工委",
            images=[_art(store, raw["id"], raw["title"], f"{published:%Y年%m月%d日}", raw.get("art"))],
        ))
    for raw in data["notices"]:
        items.append(Notice(
            id=raw["id"], title=raw["title"], body=raw["body"], urgent=raw.get("urgent", False),
            important=raw.get("urgent", False),
            valid_from=today + dt.timedelta(days=raw["valid_from_days"]),
            valid_to=today + dt.timedelta(days=raw["valid_to_days"]),
        ))
    for raw in data["lessons"]:
        items.append(Lesson(id=raw["id"], title=raw["title"], body=raw["body"], points=raw["points"],
                            images=[_art(store, raw["id"], raw["title"], "党员学习课程", raw.get("art"))]))
    for raw in data["quizzes"]:
        items.append(Quiz(id=raw["id"], title=raw["title"],
                          questions=[QuizQuestion(**question) for question in raw["questions"]]))
    for raw in data["services"]:
        items.append(ServicePage(id=raw["id"], title=raw["title"], section=raw["section"], body=raw["body"],
                                 steps=raw.get("steps", []),
                                 contacts=[Contact(**c) for c in raw.get("contacts", [])]))
    for raw in data["honours"]:
        items.append(Honour(id=raw["id"], title=raw["title"], category=raw["category"], year=raw["year"],
                            body=raw["body"],
                            image=_art(store, raw["id"], raw["title"], f"{raw['year']}年 · {raw['category']}",
                                       raw.get("art"))))
    for raw in data["archive"]:
        items.append(ArchiveDoc(id=raw["id"], title=raw["title"], category=raw["category"], year=raw["year"],
                                body=raw["body"],
                                images=[_art(store, raw["id"], raw["title"], f"{raw['year']}年 · {raw['category']}",
                                             raw.get("art"))]))
    for raw in data["faq"]:
        items.append(FaqEntry(id=raw["id"], title=raw["questions"][0], questions=raw["questions"],
                              answer=raw["answer"], tags=["faq"]))

    branches = [Organisation(id=raw["id"], title=raw["title"], parent_id=raw.get("parent"), lat=raw["lat"],
                             lon=raw["lon"], member_count=raw["member_count"], secretary=raw["secretary"],
                             address=raw["address"], phone=raw["phone"]) for raw in data["branches"]]
    items.extend(branches)
    members = demo_members([b for b in branches if b.member_count > 0])
    items.extend(demo_meetings(today, [b for b in branches if b.member_count > 0], members))

    bounds = data["map"]
    box = (bounds["lat_min"], bounds["lat_max"], bounds["lon_min"], bounds["lon_max"])
    outside = [b.id for b in branches if not (box[0] <= b.lat <= box[1] and box[2] <= b.lon <= box[3])]
    if outside:
        raise ValueError(f"demo branches outside the map bounds: {outside}")
    markers = tuple(MapMarker(b.title, b.lat, b.lon, primary=b.parent_id is None) for b in branches)
    map_info = MapInfo(image=_media(store, district_map(markers, box), "district-map"), lat_min=box[0],
                       lat_max=box[1], lon_min=box[2], lon_max=box[3])

    playlists, schedules = demo_playlists(items, today)
    return DemoContent(today=today, items=items, playlists=playlists, schedule=schedules["lobby"],
                       schedules=schedules, map=map_info, groups={g: set(k) for g, k in DEMO_GROUPS.items()},
                       members=members, sections=[s["name"] for s in data["sections"]], hall=dict(data["hall"]))


def build_demo_manifest(demo: DemoContent, *, group: str, site_id: str, version: int) -> Manifest:
    """The manifest of one demo device group (``lobby``, ``hall`` or ``robots``)."""
    if group not in demo.groups:
        raise ValueError(f"unknown demo group {group!r}; known: {', '.join(sorted(demo.groups))}")
    kinds = demo.groups[group]
    items = [item for item in demo.items if item.kind in kinds]
    schedule = demo.schedules.get(group, demo.schedule)
    wanted = {schedule.default_playlist_id, *(rule.playlist_id for rule in schedule.rules)}
    present = {item.id for item in items}
    playlists = []
    for playlist in demo.playlists:
        if playlist.id in wanted:
            entries = [entry for entry in playlist.entries if entry.item_id in present]
            playlists.append(playlist.model_copy(update={"entries": entries}))
    branches = [item for item in items if item.kind == "organisation"]
    stats = {
        "branches": sum(1 for b in branches if b.parent_id is not None),
        "members": sum(b.member_count for b in branches),
        "meetings_14d": sum(1 for item in items if item.kind == "meeting"),
        "exhibits": sum(1 for item in items if item.kind == "exhibit"),
        "by_kind": {kind: sum(1 for item in items if item.kind == kind) for kind in sorted(kinds)},
    }
    created = dt.datetime.combine(demo.today, dt.time(0), tzinfo=TZ).timestamp()
    return Manifest(site_id=site_id, group=group, version=version, created_at=created, items=items,
                    playlists=playlists, schedule=schedule,
                    map=demo.map if "organisation" in kinds else None, stats=stats,
                    settings={"hall": demo.hall, "sections": demo.sections})

"""Statistics for the 数据统计 screen, aggregated from the manifest.

The admin may put figures in ``manifest.stats``; what it leaves out is
computed from the items themselves, so the screen is never empty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from . import ranking


@dataclass
class HallStats:
    branches: int = 0
    members: int = 0
    meetings_this_quarter: int = 0
    attendance_rate: float | None = None  # 0..1
    learning_points: int = 0
    members_by_branch: dict[str, int] = field(default_factory=dict)
    points_by_branch: dict[str, int] = field(default_factory=dict)
    meetings_by_type: dict[str, int] = field(default_factory=dict)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def aggregate(manifest, now: dt.datetime, tz: ZoneInfo) -> HallStats:
    stats = HallStats()
    orgs = manifest.of_kind("organisation")
    names = {o.id: o.title for o in orgs}
    stats.branches = len(orgs)
    stats.members_by_branch = {o.title: o.member_count for o in orgs}
    stats.members = sum(o.member_count for o in orgs)

    local_now = now.astimezone(tz) if now.tzinfo else now.replace(tzinfo=tz)
    first = quarter_start(local_now.date())
    held = []
    for meeting in manifest.of_kind("meeting"):
        ends = meeting.ends_at if meeting.ends_at.tzinfo else meeting.ends_at.replace(tzinfo=tz)
        if first <= ends.astimezone(tz).date() and ends <= local_now:
            held.append(meeting)
    stats.meetings_this_quarter = len(held)
    for meeting in held:
        stats.meetings_by_type[meeting.meeting_type] = stats.meetings_by_type.get(meeting.meeting_type, 0) + 1

    extra = manifest.stats or {}
    attendance = extra.get("attendance")
    if isinstance(attendance, list):
        expected = present = 0
        for row in attendance:
            try:
                expected += max(0, int(row.get("expected", 0)))
                present += max(0, int(row.get("present", 0)))
            except (TypeError, ValueError, AttributeError):
                continue
        stats.attendance_rate = min(1.0, present / expected) if expected else None
    elif isinstance(attendance, (int, float)) and 0 <= attendance <= 1:
        stats.attendance_rate = float(attendance)

    points_rows = extra.get("points") if isinstance(extra.get("points"), list) else []
    by_branch = ranking.branch_totals(points_rows)
    stats.points_by_branch = {names.get(k, k or "未分组"): v for k, v in by_branch.items()}
    stats.learning_points = sum(by_branch.values())

    for key in ("branches", "members", "meetings_this_quarter", "learning_points"):
        value = extra.get(key)
        if isinstance(value, int) and value >= 0:
            setattr(stats, key, value)
    return stats

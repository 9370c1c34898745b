"""Learning-points ranking boards (学习积分排名), overall and per branch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Entry:
    rank: int
    member_no: str
    name: str
    branch_id: str
    points: int


def rank(rows: Iterable[Mapping[str, Any]], *, branch_id: str | None = None, limit: int = 10) -> list[Entry]:
    """Standard competition ranking (1, 2, 2, 4): equal points share a rank;
    ties are listed by member number so the board is stable.

    Rows are dicts with member_no, name, branch_id, points (from the admin's
    tally in ``manifest.stats['points']``). Bad rows are skipped; a member that
    appears twice has its points summed.
    """
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        try:
            member = str(row["member_no"])
            points = int(row.get("points", 0))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        branch = str(row.get("branch_id") or "")
        if branch_id is not None and branch != branch_id:
            continue
        slot = totals.setdefault(member, {"name": str(row.get("name") or member), "branch_id": branch, "points": 0})
        slot["points"] += max(0, points)
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1]["points"], kv[0]))
    board: list[Entry] = []
    previous_points, previous_rank = None, 0
    for position, (member, slot) in enumerate(ordered, start=1):
        current_rank = previous_rank if slot["points"] == previous_points else position
        if len(board) >= limit:
            break
        board.append(Entry(current_rank, member, slot["name"], slot["branch_id"], slot["points"]))
        previous_points, previous_rank = slot["points"], current_rank
    return board


def branch_totals(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in rows:
        try:
            if "member_no" not in row:
                continue
            branch = str(row.get("branch_id") or "")
            totals[branch] = totals.get(branch, 0) + max(0, int(row.get("points", 0)))
        except (TypeError, ValueError, AttributeError):
            continue
    return totals

"""Split wrapped lines of a long text into pages that fit a box."""

from __future__ import annotations


def paginate(lines: list[str], lines_per_page: int) -> list[list[str]]:
    """Pages of at most ``lines_per_page`` lines; never an empty list of pages.

    Blank lines at the top of a page are dropped: a page should start with text.
    """
    per_page = max(1, int(lines_per_page))
    pages: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if not current and not line.strip() and pages:
            continue
        current.append(line)
        if len(current) == per_page:
            pages.append(current)
            current = []
    if current or not pages:
        pages.append(current)
    return pages


def lines_that_fit(box_height: int, line_height: int) -> int:
    return max(1, box_height // max(1, line_height))

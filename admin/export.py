"""Tables as CSV (UTF-8 with BOM, formula-safe) or XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from fastapi.responses import Response

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # not a formula when opened in a spreadsheet
    return value


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def to_xlsx(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(list(headers))
    for row in rows:
        sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def table_response(fmt: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], *, name: str,
                   title: str) -> Response:
    if fmt == "xlsx":
        body, media = to_xlsx(headers, rows, title=title), XLSX_TYPE
    else:
        body, media = to_csv(headers, rows), CSV_TYPE
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})

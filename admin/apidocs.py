"""The interactive API documentation at ``/docs``, served entirely from this
machine.

FastAPI's own ``/docs`` page pulls Swagger UI from a CDN and starts it with an
inline script; on the air-gapped intranet it never loads, and the admin's CSP
forbids inline scripts anyway. Here Swagger UI's files come from the
``swagger-ui-bundle-v2`` wheel (installed by pip, like any dependency) and the
page starts it from a static script, so ``/docs`` lives under the same policy
as every other page.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"


def swagger_ui_dir() -> Path | None:
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    path = Path(swagger_ui_bundle.swagger_ui_path)
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def docs_page(title: str) -> str:
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{html.escape(title)} · 接口文档</title>
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="/static/apidocs.js"></script>
</body>
</html>
"""


def install_api_docs(app: FastAPI) -> bool:
    """Serve ``/docs`` from local files; False (and no page) when Swagger UI
    is not installed: ``/openapi.json`` works either way."""
    assets = swagger_ui_dir()
    if assets is None:
        return False
    app.mount(ASSETS_PATH, StaticFiles(directory=assets), name="docs-assets")
    page = docs_page(app.title)

    @app.get(DOCS_PATH, include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return HTMLResponse(page)

    return True

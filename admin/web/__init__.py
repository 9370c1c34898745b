"""Server-rendered web UI (Jinja2, Simplified Chinese, local JS only)."""

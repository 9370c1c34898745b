"""The admin's settings: the shared ``HallSettings`` plus what only the admin needs.

One class, created once per process (``get_settings``); tests build their own
instance and hand it to ``create_app``. Outside development the defaults that
would be unsafe (the session secret) are refused at start, not discovered later.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import model_validator

from broker.settings import HallSettings, SettingsError

DEV_SECRET = "dev-only-insecure-secret-change-me"


class AdminSettings(HallSettings):
    # Signs session cookies and CSRF tokens.
    secret_key: str = DEV_SECRET
    # SQLAlchemy URL; default: SQLite (WAL) under the data directory.
    # PostgreSQL: postgresql+psycopg://user:pass@host/dbname
    database_url: str | None = None
    max_upload_bytes: int = 50 * 1024 * 1024
    session_max_age_s: int = 8 * 3600
    api_token_max_age_s: int = 30 * 24 * 3600
    # Login back-off: after this many failures the account waits 2^n seconds
    # (capped), so guessing is slow without locking out the real user for long.
    login_free_failures: int = 3
    login_max_delay_s: int = 300
    # Connect to the broker (fleet, alerts, check-ins). Off in API-only tests.
    mqtt_enabled: bool = True
    # Secure cookies need HTTPS; the intranet demo runs plain HTTP.
    cookie_secure: bool = False

    @model_validator(mode="after")
    def _refuse_unsafe_admin_defaults(self) -> "AdminSettings":
        if self.environment == "production":
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                raise SettingsError("生产模式必须设置至少 32 个字符的会话密钥 (HALL_SECRET_KEY)")
        return self

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'admin' / 'admin.db').resolve()}"

    @property
    def publish_state_file(self) -> Path:
        return self.data_dir / "admin" / "publish_state.json"

    @property
    def demo_users_file(self) -> Path:
        return self.data_dir / "admin" / "demo-users.txt"


@lru_cache(maxsize=1)
def get_settings() -> AdminSettings:
    return AdminSettings()

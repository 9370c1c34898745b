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
    # Secure cookies need HTTPS; the intranet demo runs plain HTTP. Turned on
    # by itself when the admin serves HTTPS (admin_tls_cert).
    cookie_secure: bool = False
    # HTTPS: a server certificate issued by the site's local CA
    # (`hall broker make-ca --host <admin host>`), PEM, and its key.
    admin_tls_cert: Path | None = None
    admin_tls_key: Path | None = None
    # Failed logins per client address across all accounts (password spraying).
    login_ip_failures_per_window: int = 30
    login_ip_window_s: int = 600
    # Learning-point PINs: back-off per member (then 2, 4, 8 ... s, capped),
    # and failures per kiosk in a sliding window.
    pin_free_failures: int = 3
    pin_max_delay_s: int = 3600
    pin_device_failures_per_window: int = 20
    pin_device_window_s: int = 600
    # Pixels an uploaded image may declare before it is refused undecoded:
    # 40 MP is beyond any photo a screen shows and bounds a decode to ~160 MB.
    max_image_pixels: int = 40_000_000

    @model_validator(mode="after")
    def _tls_pair(self) -> "AdminSettings":
        if (self.admin_tls_cert is None) != (self.admin_tls_key is None):
            raise SettingsError("HTTPS 需要同时设置证书和私钥 (HALL_ADMIN_TLS_CERT / HALL_ADMIN_TLS_KEY)")
        if self.admin_tls_cert is not None:
            self.cookie_secure = True
        return self

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
    def max_request_bytes(self) -> int:
        # The largest upload plus room for the multipart envelope.
        return self.max_upload_bytes + 1024 * 1024

    @property
    def publish_state_file(self) -> Path:
        return self.data_dir / "admin" / "publish_state.json"

    @property
    def demo_users_file(self) -> Path:
        return self.data_dir / "admin" / "demo-users.txt"


@lru_cache(maxsize=1)
def get_settings() -> AdminSettings:
    return AdminSettings()

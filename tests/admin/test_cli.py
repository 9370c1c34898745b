"""`hall admin` commands, settings, and the demo seed."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from admin.cli import app


def test_cli_module_is_cheap_to_import():
    import subprocess
    import sys

    code = "import sys, admin.cli; print(sorted(m for m in ('fastapi', 'sqlalchemy', 'uvicorn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_create_user_and_add_device(tmp_path):
    runner = CliRunner()
    data = str(tmp_path / "data")
    r = runner.invoke(app, ["create-user", "zhangsan", "--role", "reviewer", "--data-dir", data])
    assert r.exit_code == 0, r.output
    assert "密码：" in r.output
    bad = runner.invoke(app, ["create-user", "lisi", "--role", "king", "--data-dir", data])
    assert bad.exit_code == 2 and "未知角色" in bad.output

    r = runner.invoke(app, ["add-device", "kiosk-7", "--kind", "kiosk", "--group", "lobby", "--group", "floor2",
                            "--data-dir", data, "--env-file", str(tmp_path / "kiosk-7.env")])
    assert r.exit_code == 0, r.output
    assert "HALL_MQTT_USERNAME=kiosk-7" in r.output and "HALL_PUBLIC_KEY=" in r.output
    assert 'HALL_GROUPS=["lobby","floor2"]' in r.output
    assert (tmp_path / "kiosk-7.env").stat().st_mode & 0o077 == 0

    from broker.fleet import Fleet

    record = Fleet.load(tmp_path / "data" / "fleet.yaml").get("kiosk-7")
    assert record.kind == "kiosk" and record.groups == ["lobby", "floor2"] and record.argon2_hash
    bad = runner.invoke(app, ["add-device", "x/../y", "--kind", "kiosk", "--group", "lobby", "--data-dir", data])
    assert bad.exit_code == 2


def test_production_refuses_default_secret(tmp_path):
    from admin.settings import AdminSettings
    from broker.settings import SettingsError

    with pytest.raises((SettingsError, ValueError), match="HALL_SECRET_KEY"):
        AdminSettings(_env_file=None, environment="production", mqtt_username="admin", mqtt_password="x" * 20,
                      public_key="k", data_dir=tmp_path)
    ok = AdminSettings(_env_file=None, environment="production", mqtt_username="admin", mqtt_password="x" * 20,
                       public_key="k", secret_key="s" * 40, data_dir=tmp_path)
    assert ok.db_url.startswith("sqlite:///") and ok.db_url.endswith("admin.db")


def test_demo_seed_publishes_each_group_once(tmp_path, make_settings):
    from admin.app import build_context
    from admin.seed import DEMO_USERS, seed_demo
    from content.signing import decode_manifest

    settings = make_settings(tmp_path)
    ctx = build_context(settings)
    first = seed_demo(ctx)
    assert set(first["users"]) == {name for name, _, _ in DEMO_USERS}
    assert settings.demo_users_file.stat().st_mode & 0o077 == 0
    groups = {g["group"]: g for g in first["groups"]}
    assert {"lobby", "hall", "robots"} <= set(groups)
    assert all(g["changed"] for g in groups.values())
    robots = decode_manifest(ctx.store.read(groups["robots"]["manifest_sha256"]))
    assert robots.of_kind("faq") and not robots.of_kind("news")
    lobby = decode_manifest(ctx.store.read(groups["lobby"]["manifest_sha256"]))
    assert lobby.of_kind("news") and lobby.map is not None and lobby.schedule.default_playlist_id
    for ref in lobby.media_refs().values():
        assert ctx.store.has(ref.sha256)

    second = seed_demo(ctx)
    assert second["users"] == {}
    assert not any(g["changed"] for g in second["groups"])
    ctx.engine.dispose()

"""The embedded broker (amqtt) for the demo and small halls.

Username/password from the fleet's argon2 hashes and per-device ACLs from
``broker.acl``; anonymous clients are refused unless explicitly allowed
(tests of pure protocol behaviour only).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from .fleet import Fleet

log = logging.getLogger(__name__)


def broker_config(*, host: str, port: int, fleet: Fleet | None, password_file: Path | None,
                  allow_anonymous: bool = False) -> dict[str, Any]:
    plugins: dict[str, Any] = {}
    if fleet is not None and password_file is not None:
        password_file.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{d.id}:{d.argon2_hash}" for d in fleet.devices]
        password_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        password_file.chmod(0o600)
        plugins["amqtt.plugins.authentication.FileAuthPlugin"] = {"password_file": str(password_file)}
        rules = {d.id: d.rules() for d in fleet.devices}
        plugins["amqtt.plugins.topic_checking.TopicAccessControlListPlugin"] = {
            "acl": {name: r.read for name, r in rules.items()},
            "publish_acl": {name: r.write for name, r in rules.items()},
        }
    if allow_anonymous or not plugins:
        plugins["amqtt.plugins.authentication.AnonymousAuthPlugin"] = {"allow_anonymous": True}
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}", "max_connections": 0}},
        "timeout_disconnect_delay": 0,
        "plugins": plugins,
    }


class EmbeddedBroker:
    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config
        self._broker: Any = None

    async def start(self) -> None:
        from amqtt.broker import Broker  # heavy import, only in the broker process

        # amqtt logs every packet at INFO; keep the broker's own logs for warnings.
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self._broker = Broker(self._config)
        await self._broker.start()

    async def stop(self) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

"""What one running admin holds: settings, database, media store, signing key
and the broker bridge. Created by ``create_app``; handed to routes through
``deps`` (never a module global), so tests run several admins side by side."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from admin.settings import AdminSettings


@dataclass
class AdminContext:
    settings: AdminSettings
    engine: Engine
    sessions: sessionmaker[Session]
    store: Any  # content.store.MediaStore
    signer: Any  # content.signing.ManifestSigner
    bus: Any = None  # admin.bus.FleetBus when the broker is enabled
    extras: dict[str, Any] = field(default_factory=dict)

    def publish_message(self, message: Any) -> bool:
        """Send an MQTT message; False when there is no broker connection
        (the caller records it as pending and it goes out on reconnect)."""
        if self.bus is None:
            return False
        return self.bus.publish(message)

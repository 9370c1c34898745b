"""The admin's face services: the encrypted embedding vault, the face pipeline
that turns enrolment photos into embeddings, and the meetings a robot's
gallery bundle is cut from. One ``FaceServices`` per admin (in
``ctx.extras["faces"]``), created on first use so an admin that never enrols a
face never loads dlib.

Configuration is robot/face's ``FaceConfig`` (env ``HALL_FACE_…``), so the
admin and ``hall robot face`` read the same variables; the admin adds no
settings of its own. Defaults that differ on the admin: the vault lives in
``<data_dir>/admin/face-vault`` unless ``HALL_FACE_VAULT_DIR`` says otherwise.
The vault key comes only from ``HALL_FACE_VAULT_KEY`` or ``HALL_FACE_VAULT_KEY_FILE``
(refused inside the vault directory): never the database, never the vault.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.orm import Session

from content.model import DEFAULT_TZ, Meeting

log = logging.getLogger(__name__)

_create_lock = threading.Lock()
FACE_KINDS = ("robot", "kiosk")  # devices with a camera that check members in


def face_config_for(settings: Any):
    """``FaceConfig`` from the environment, with the vault under the admin's data directory."""
    from robot.face.config import FaceConfig

    config = FaceConfig()
    if "vault_dir" not in config.model_fields_set:
        config = config.model_copy(update={"vault_dir": Path(settings.data_dir) / "admin" / "face-vault"})
    return config


@dataclass
class FaceServices:
    config: Any  # robot.face.config.FaceConfig
    pipeline: Any = None  # robot.face.pipeline.FacePipeline, loaded on first use
    vault: Any = None  # robot.face.vault.EmbeddingVault, opened on first use
    # dlib's models are not documented as thread-safe: one photo at a time.
    _pipeline_lock: threading.Lock = field(default_factory=threading.Lock)
    _open_lock: threading.Lock = field(default_factory=threading.Lock)

    # -- vault -------------------------------------------------------------------
    @property
    def vault_file(self) -> Path:
        from robot.face.vault import DB_NAME

        return Path(self.config.vault_dir) / DB_NAME

    def vault_exists(self) -> bool:
        return self.vault is not None or self.vault_file.exists()

    def get_vault(self):
        """The open vault; ``VaultError`` (Chinese message) when the key is missing or wrong."""
        from robot.face.vault import EmbeddingVault

        with self._open_lock:
            if self.vault is None:
                self.vault = EmbeddingVault.from_config(self.config)
            return self.vault

    # -- pipeline ----------------------------------------------------------------
    def get_pipeline(self):
        from robot.face.pipeline import FacePipeline

        with self._open_lock:
            if self.pipeline is None:
                self.pipeline = FacePipeline.from_config(self.config)
            return self.pipeline

    def check_photo(self, data: bytes):
        """Decode and analyse one enrolment photo: ``robot.face.enrolment.PhotoCheck``."""
        from robot.face.enrolment import PhotoCheck, check_enrolment_photo, decode_image
        from robot.face.errors import EnrolmentError

        try:
            image = decode_image(data)
        except EnrolmentError as exc:
            return PhotoCheck(0, None, str(exc))
        pipeline = self.get_pipeline()
        with self._pipeline_lock:
            return check_enrolment_photo(pipeline, image)

    def close(self) -> None:
        with self._open_lock:
            if self.vault is not None:
                self.vault.close()
                self.vault = None


def face_services(ctx: Any) -> FaceServices:
    """The admin's face services (tests may put their own in ``ctx.extras["faces"]``)."""
    services = ctx.extras.get("faces")
    if services is None:
        with _create_lock:
            services = ctx.extras.get("faces")
            if services is None:
                services = FaceServices(face_config_for(ctx.settings))
                ctx.extras["faces"] = services
    return services


def _aware(value: dt.datetime) -> dt.datetime:
    # Meetings authored without a zone are hall time, as on the robot (robot/face/checkin.py);
    # a naive .timestamp() would use this machine's zone instead.
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(DEFAULT_TZ))


def live_meetings(session: Session, *, group_kinds: list[str] | None = None) -> list[Meeting]:
    """The published meetings (what robots receive in their manifests), with aware times.

    ``group_kinds``: the kinds the device's group carries; a group without
    meetings gets none (and so no faces)."""
    from admin.crud import items as crud_items

    if group_kinds and "meeting" not in group_kinds:
        return []
    meetings = []
    for item, ver in crud_items.live_items(session):
        if item.kind != "meeting":
            continue
        try:
            meeting = Meeting.model_validate(ver.data)
        except ValidationError as exc:
            log.warning("meeting %s unreadable, left out of face bundles: %s", item.id, exc)
            continue
        meetings.append(meeting.model_copy(update={"starts_at": _aware(meeting.starts_at),
                                                   "ends_at": _aware(meeting.ends_at)}))
    return meetings

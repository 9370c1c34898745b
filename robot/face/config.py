"""Face settings (env prefix ``HALL_FACE_``).

A plain pydantic-settings class so the robot's own settings can nest it or a
process can build it from the environment. Defaults are the published
operating points of the shipped models; every threshold is configurable so an
operator can tune it with ``hall robot face identify``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class FaceConfig(BaseSettings):
    # Same .env file as HallSettings, so one file configures a device.
    model_config = SettingsConfigDict(env_prefix="HALL_FACE_", extra="ignore",
                                      env_file=os.environ.get("HALL_ENV_FILE", ".env"), env_file_encoding="utf-8")

    # -- engines --------------------------------------------------------------
    detector: Literal["haar", "hog", "yunet"] = "haar"
    embedder: Literal["dlib", "sface"] = "dlib"
    # Operator-supplied ONNX files (no package ships them); required only when chosen.
    yunet_model: Path | None = None
    sface_model: Path | None = None
    # None: the embedder's published operating point (dlib: euclidean 0.6; SFace: cosine 0.363).
    threshold: float | None = Field(default=None, gt=0)
    # Refuse a match when the second-best *other* person is this close to the best
    # one; 0 keeps the published operating point unchanged.
    min_margin: float = Field(default=0.0, ge=0)
    # Detection runs on a copy scaled down to this longest side; embeddings use full resolution.
    detect_max_side: int = Field(default=640, ge=120)
    # Faces narrower than this (pixels, original frame) give unreliable embeddings.
    min_face_px: int = Field(default=60, ge=20)
    haar_min_neighbors: int = Field(default=6, ge=1)
    # Pyramid step of the cascade: 1.2 halves the work of 1.1 and, on the sample
    # photos, dropped a false detection without losing a face (see README).
    haar_scale_factor: float = Field(default=1.2, gt=1.0, le=1.5)
    yunet_score: float = Field(default=0.8, gt=0, lt=1)

    # -- frame quality --------------------------------------------------------
    dark_mean: float = 35.0          # mean grey level (0-255) under which a frame is "too dark"
    blur_variance: float = 25.0      # variance of the Laplacian under which a face is "blurred"

    # -- liveness ------------------------------------------------------------
    liveness: Literal["off", "parallax"] = "off"
    liveness_frames: int = Field(default=8, ge=3)
    liveness_min_parallax: float = Field(default=0.035, gt=0)
    liveness_min_motion: float = Field(default=0.08, gt=0)

    # -- private storage ------------------------------------------------------
    vault_dir: Path = Path("var/face-vault")
    # Base64 (url-safe or standard) of 32 random bytes, or a file holding it; never inside vault_dir.
    vault_key: SecretStr | None = None
    vault_key_file: Path | None = None
    keep_photos: bool = False
    max_embeddings_per_member: int = Field(default=5, ge=1, le=20)

    # -- gallery bundles (admin -> robot) -------------------------------------
    # Admin: a directory of per-device seal keys ``<device_id>.key`` (base64 of 32
    # bytes, as `hall robot face new-key` prints). A device with a key file gets its
    # bundle sealed (AES-256-GCM) as well as signed. Never inside vault_dir.
    bundle_keys_dir: Path | None = None
    # Robot: its own seal key (the same value as the admin's ``<device_id>.key``);
    # unset, the robot falls back to vault_key (the convention of `face run --bundle`).
    bundle_key: SecretStr | None = None
    # Robot: fetch the bundle again this often even without a new manifest, since
    # the admin includes only meetings of the next 24 hours.
    bundle_refresh_seconds: float = Field(default=900.0, ge=10)

    # -- check-in -------------------------------------------------------------
    camera: str = "0"                 # device index, RTSP/HTTP URL or a video file
    open_before_minutes: float = 30.0  # a meeting accepts check-ins this long before it starts
    late_after_minutes: float = 0.0    # arriving later than start + this is flagged late
    greeting: str = "{name}同志，欢迎参加{meeting_type}"
    process_every_n_frames: int = Field(default=1, ge=1)
    outbox_dir: Path = Path("var/face-outbox")
    resend_seconds: float = Field(default=10.0, gt=0)

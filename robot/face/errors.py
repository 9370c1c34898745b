"""The face package's own errors; third-party failures are translated into these
once, where they happen, with ``raise ... from exc``."""

from __future__ import annotations


class FaceError(Exception):
    """Base of every face error; messages are meant for operators."""


class ModelMissingError(FaceError):
    """A model file is not where the configuration says it is."""


class EnrolmentError(FaceError):
    """A photo or request that cannot be enrolled (no consent, no face, two faces)."""


class VaultError(FaceError):
    """The vault cannot be opened: missing or misplaced key, unreadable database."""


class BundleError(FaceError):
    """A gallery bundle that cannot be trusted or read."""


class CameraError(FaceError):
    """The camera cannot be opened or stopped delivering frames."""

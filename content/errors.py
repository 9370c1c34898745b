"""The content package's own errors.

Third-party failures (httpx, OSError, pydantic, cryptography) are translated
once, at the boundary where they happen, into one of these, always with
``raise ... from exc`` so the original cause stays in the traceback. Callers
(the endpoint runtime, the admin) catch ``ContentError`` and keep running on
what they last applied.
"""

from __future__ import annotations


class ContentError(Exception):
    """Base of every content error; the message is meant for operators' logs."""


class ManifestError(ContentError):
    """A manifest that cannot be trusted or read: unparsable, wrong hash,
    missing, bad or foreign signature."""


class MediaError(ContentError):
    """A media file that could not be fetched or does not match its hash."""


class CacheFullError(ContentError):
    """The disk holding the cache is full (ENOSPC while writing)."""

"""The content domain shared by every process: item kinds, media references,
schedules and the manifest that a device group plays.

Everything here is plain data with validation. The admin authors it, the
manifest carries it, and kiosks, the hall and the robot read it. A device must
keep working when one item is broken, so the manifest drops (and logs) items it
cannot read instead of refusing the whole manifest.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

log = logging.getLogger(__name__)

SHA256 = r"^[0-9a-f]{64}$"
DEFAULT_TZ = "Asia/Shanghai"


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class MediaRef(Model):
    """A media file named by the sha256 of its bytes."""

    sha256: str = Field(pattern=SHA256)
    mime: str
    size: int = Field(ge=0)
    name: str | None = None
    width: int | None = None
    height: int | None = None


class ItemBase(Model):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    title: str = Field(min_length=1, max_length=200)
    important: bool = False
    tags: list[str] = Field(default_factory=list)
    # Hash of the approved version (set by the admin when it compiles a manifest).
    version_sha256: str | None = None


class News(ItemBase):
    kind: Literal["news"] = "news"
    summary: str = ""
    body: str = ""
    images: list[MediaRef] = Field(default_factory=list)
    published_on: dt.date | None = None
    source: str | None = None


class Notice(ItemBase):
    kind: Literal["notice"] = "notice"
    body: str = ""
    urgent: bool = False
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


class Lesson(ItemBase):
    kind: Literal["lesson"] = "lesson"
    body: str = ""
    images: list[MediaRef] = Field(default_factory=list)
    audio: MediaRef | None = None
    points: int = Field(default=5, ge=0)


class QuizQuestion(Model):
    text: str = Field(min_length=1)
    options: list[str] = Field(min_length=2)
    correct: list[int] = Field(min_length=1, description="indexes into options")
    multiple: bool = False
    explanation: str = ""

    @field_validator("correct")
    @classmethod
    def _correct_in_range(cls, value: list[int], info: Any) -> list[int]:
        options = info.data.get("options") or []
        bad = [i for i in value if not 0 <= i < len(options)]
        if bad:
            raise ValueError(f"correct option index {bad} out of range for {len(options)} options")
        return value


class Quiz(ItemBase):
    kind: Literal["quiz"] = "quiz"
    questions: list[QuizQuestion] = Field(min_length=1)
    points_per_question: int = Field(default=2, ge=0)


class Contact(Model):
    name: str
    role: str = ""
    phone: str = ""
    place: str = ""


class ServicePage(ItemBase):
    kind: Literal["service"] = "service"
    section: Literal["dues", "transfer", "contacts", "faq", "other"] = "other"
    body: str = ""
    steps: list[str] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)


class Honour(ItemBase):
    kind: Literal["honour"] = "honour"
    category: str = "集体荣誉"
    year: int = Field(ge=1900, le=2100)
    body: str = ""
    image: MediaRef | None = None


class ArchiveDoc(ItemBase):
    kind: Literal["archive"] = "archive"
    category: str = "文献"
    year: int = Field(ge=1800, le=2100)
    body: str = ""
    images: list[MediaRef] = Field(default_factory=list)


class Exhibit(ItemBase):
    """A 3D-hall exhibit. ``section`` groups exhibits into rooms; ``year``
    orders them chronologically."""

    kind: Literal["exhibit"] = "exhibit"
    section: str | None = None
    year: int | None = None
    caption: str = ""
    narration: str = ""
    image: MediaRef | None = None
    model: MediaRef | None = None
    aliases: list[str] = Field(default_factory=list)


class FaqEntry(ItemBase):
    kind: Literal["faq"] = "faq"
    questions: list[str] = Field(min_length=1)
    answer: str = Field(min_length=1)


MeetingType = Literal["支部党员大会", "支委会", "党小组会", "党课"]


class Meeting(ItemBase):
    kind: Literal["meeting"] = "meeting"
    meeting_type: MeetingType
    branch_id: str
    place: str = ""
    starts_at: dt.datetime
    ends_at: dt.datetime
    expected_members: list[str] = Field(default_factory=list, description="member ids")
    check_in_devices: list[str] = Field(default_factory=list, description="robots/kiosks that check in")


class Organisation(ItemBase):
    """A party branch (支部) or committee; ``title`` is its name."""

    kind: Literal["organisation"] = "organisation"
    parent_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    member_count: int = Field(default=0, ge=0)
    secretary: str = ""
    address: str = ""
    phone: str = ""


Item = Annotated[
    Union[News, Notice, Lesson, Quiz, ServicePage, Honour, ArchiveDoc, Exhibit, FaqEntry, Meeting, Organisation],
    Field(discriminator="kind"),
]
ITEM_KINDS = ("news", "notice", "lesson", "quiz", "service", "honour", "archive", "exhibit", "faq", "meeting",
              "organisation")
_item_adapter: TypeAdapter[Any] = TypeAdapter(Item)


def parse_item(data: dict[str, Any]) -> ItemBase:
    """Validate one item; raises ``pydantic.ValidationError`` with the reason."""
    return _item_adapter.validate_python(data)


# -- scheduling ------------------------------------------------------------------

class PlaylistEntry(Model):
    item_id: str
    duration_s: float = Field(default=10.0, gt=0, le=3600)


class Playlist(Model):
    id: str
    name: str
    entries: list[PlaylistEntry] = Field(default_factory=list)


class ScheduleRule(Model):
    """Play ``playlist_id`` when all given conditions hold (dayparting).

    Dates are inclusive; ``time_from``/``time_to`` form a half-open window
    [from, to) that may wrap past midnight (22:00–06:00). Weekdays: Monday=0.
    """

    id: str
    playlist_id: str
    priority: int = 0
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    weekdays: list[int] | None = None
    time_from: dt.time | None = None
    time_to: dt.time | None = None

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(not 0 <= d <= 6 for d in value):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return value


class Schedule(Model):
    timezone: str = DEFAULT_TZ
    default_playlist_id: str | None = None
    rules: list[ScheduleRule] = Field(default_factory=list)


class MapInfo(Model):
    """A local map image and the geographic bounds it covers (no tiles online)."""

    image: MediaRef
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float


# -- manifest --------------------------------------------------------------------

class Manifest(Model):
    """Everything one device group plays. Served as JSON bytes named by their
    sha256 and signed with Ed25519 (see ``content.signing``)."""

    format: Literal[1] = 1
    site_id: str
    group: str
    version: int = Field(ge=0)
    created_at: float
    items: list[Item] = Field(default_factory=list)
    playlists: list[Playlist] = Field(default_factory=list)
    schedule: Schedule = Field(default_factory=Schedule)
    map: MapInfo | None = None
    stats: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("items", mode="before")
    @classmethod
    def _drop_unreadable_items(cls, value: Any) -> Any:
        # One broken or unknown item must not blank every screen: keep the rest.
        if not isinstance(value, list):
            return value
        kept = []
        for raw in value:
            try:
                kept.append(raw if isinstance(raw, ItemBase) else parse_item(raw))
            except ValidationError as exc:
                ident = raw.get("id", "?") if isinstance(raw, dict) else "?"
                kind = raw.get("kind", "?") if isinstance(raw, dict) else "?"
                log.warning("manifest: skipping item %s (kind %s): %s", ident, kind, exc.errors()[0]["msg"])
        return kept

    # -- queries ---------------------------------------------------------------
    def of_kind(self, kind: str) -> list[Any]:
        return [item for item in self.items if item.kind == kind]

    def item(self, item_id: str) -> ItemBase | None:
        return next((item for item in self.items if item.id == item_id), None)

    def playlist(self, playlist_id: str | None) -> Playlist | None:
        return next((p for p in self.playlists if p.id == playlist_id), None)

    def media_refs(self) -> dict[str, MediaRef]:
        """Every media file the manifest needs, by sha256."""
        refs: dict[str, MediaRef] = {}

        def add(ref: MediaRef | None) -> None:
            if ref is not None:
                refs[ref.sha256] = ref

        for item in self.items:
            fields = type(item).model_fields  # a dict lookup; getattr with a default is slow on models
            for name in ("image", "audio", "model"):
                if name in fields:
                    add(getattr(item, name))
            if "images" in fields:
                for ref in item.images:
                    add(ref)
        if self.map is not None:
            add(self.map.image)
        return refs

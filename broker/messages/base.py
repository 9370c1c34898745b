"""The base of the topic contract: one message class per MQTT topic.

Every topic lives under ``hall/v1/``. A message class declares its topic as a
template such as ``device/{device_id}/reported``; the placeholders are also
fields of the message, so a message always knows where it is published.

Why pydantic: the payloads come from other machines, so parsing must validate
types and reject bad input with a clear error (``MessageError``), never crash a
handler deep inside a process.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ROOT = "hall/v1"

# Topic segments must not contain MQTT wildcards or separators; device ids and
# group names are also used in file names and ACL lines, so keep them plain.
SEGMENT_PATTERN = r"[A-Za-z0-9_.\-]+"
_SEGMENT_RE = re.compile(rf"^{SEGMENT_PATTERN}$")
_PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")


class MessageError(ValueError):
    """A payload or topic that does not fit the contract."""

    def __init__(self, message: str, *, topic: str | None = None) -> None:
        self.topic = topic
        super().__init__(message if topic is None else f"{message} (topic {topic!r})")


def now() -> float:
    return time.time()


def new_id() -> str:
    return uuid.uuid4().hex


class Message(BaseModel):
    """Base class of every MQTT message.

    Subclasses set ``TOPIC`` (relative to ``hall/v1``) and, when the message is
    state rather than an event, ``RETAIN = True``.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    TOPIC: ClassVar[str] = ""
    RETAIN: ClassVar[bool] = False
    QOS: ClassVar[int] = 1
    registry: ClassVar[list[type["Message"]]] = []
    _topic_args: ClassVar[tuple[str, ...]] = ()
    _topic_re: ClassVar[re.Pattern[str]]

    site_id: str = Field(min_length=1, max_length=64)
    ts: float = Field(default_factory=now)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("TOPIC"):
            return
        args = tuple(_PLACEHOLDER_RE.findall(cls.TOPIC))
        cls._topic_args = args
        pattern = re.escape(f"{ROOT}/{cls.TOPIC}")
        for name in args:
            pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>{SEGMENT_PATTERN})")
        cls._topic_re = re.compile(f"^{pattern}$")
        Message.registry.append(cls)

    # -- topics ---------------------------------------------------------------
    @classmethod
    def topic(cls, **kwargs: str) -> str:
        """Build the concrete topic. Every placeholder must be given by name.

        ``"+"`` is allowed explicitly (``device_id="+"``) to subscribe to all;
        a misspelt or missing argument is a ``TypeError``, never a wildcard.
        """
        unknown = set(kwargs) - set(cls._topic_args)
        missing = set(cls._topic_args) - set(kwargs)
        if unknown or missing:
            raise TypeError(
                f"{cls.__name__}.topic() takes exactly {sorted(cls._topic_args)};"
                f" unknown {sorted(unknown)}, missing {sorted(missing)}"
            )
        values = {}
        for name, value in kwargs.items():
            value = str(value)
            if value != "+" and not _SEGMENT_RE.match(value):
                raise MessageError(f"{cls.__name__}: {name}={value!r} is not a valid topic segment")
            values[name] = value
        return f"{ROOT}/{cls.TOPIC.format(**values)}"

    @classmethod
    def subscription(cls, **kwargs: str) -> str:
        """Topic filter: placeholders not given become ``+``."""
        unknown = set(kwargs) - set(cls._topic_args)
        if unknown:
            raise TypeError(f"{cls.__name__}.subscription() got unknown {sorted(unknown)}")
        filled = {name: kwargs.get(name, "+") for name in cls._topic_args}
        return cls.topic(**filled)

    @classmethod
    def is_topic(cls, topic: str) -> bool:
        return bool(cls.TOPIC) and cls._topic_re.match(topic) is not None

    @classmethod
    def topic_args(cls, topic: str) -> dict[str, str]:
        match = cls._topic_re.match(topic)
        if match is None:
            raise MessageError(f"{cls.__name__} does not match", topic=topic)
        return match.groupdict()

    def own_topic(self) -> str:
        """The topic this message is published on, from its own fields."""
        return self.topic(**{name: getattr(self, name) for name in self._topic_args})

    # -- payloads -------------------------------------------------------------
    def payload(self) -> bytes:
        return self.model_dump_json().encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, payload: bytes | str, *, topic: str | None = None) -> "Message":
        """Parse and validate. Raises ``MessageError`` with a readable reason.

        When ``topic`` is given, the placeholders in it must agree with the
        payload: a device cannot claim another device's id in its body.
        """
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MessageError(f"{cls.__name__}: payload is not JSON: {exc}", topic=topic) from exc
        if not isinstance(data, dict):
            raise MessageError(f"{cls.__name__}: payload must be a JSON object", topic=topic)
        if topic is not None:
            for name, value in cls.topic_args(topic).items():
                if name in data and data[name] != value:
                    raise MessageError(
                        f"{cls.__name__}: {name}={data[name]!r} in payload disagrees with topic", topic=topic
                    )
                data.setdefault(name, value)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            reasons = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'payload'}: {err['msg']}" for err in exc.errors()
            )
            raise MessageError(f"{cls.__name__}: {reasons}", topic=topic) from exc


class Expiring(BaseModel):
    """Mixin for requests that may go stale (MQTT 3.1.1 has no message expiry)."""

    expires_at: float | None = None

    def expired(self, at: float | None = None) -> bool:
        return self.expires_at is not None and (at if at is not None else now()) >= self.expires_at


def message_class_for(topic: str) -> type[Message] | None:
    """The one message class whose topic pattern matches ``topic``."""
    for cls in Message.registry:
        if cls.is_topic(topic):
            return cls
    return None

"""Device commands handed from the network thread to the UI thread.

The network thread cannot read the screen or change screens itself, so it
posts a ``CommandRequest`` as a pygame event and waits on its future.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CommandRequest:
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    future: Future = field(default_factory=Future)

    def done(self, **result: Any) -> None:
        if not self.future.done():
            self.future.set_result(result)

    def fail(self, reason: str) -> None:
        if not self.future.done():
            self.future.set_exception(RuntimeError(reason))

"""Frame-time statistics for telemetry and the benchmark."""

from __future__ import annotations

from collections import deque


def percentile(values, q: float) -> float:
    data = sorted(values)
    if not data:
        return 0.0
    k = (len(data) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


class FrameStats:
    def __init__(self, window: int = 600) -> None:
        self.frame_ms: deque[float] = deque(maxlen=window)
        self.stamps: deque[float] = deque(maxlen=window)

    def add(self, frame_ms: float, at: float) -> None:
        self.frame_ms.append(frame_ms)
        self.stamps.append(at)

    def fps(self, now: float, span: float = 10.0) -> float:
        recent = [t for t in self.stamps if now - t <= span]
        return len(recent) / span if recent else 0.0

    def p(self, q: float) -> float:
        return percentile(self.frame_ms, q)

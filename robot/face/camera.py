"""Frames from a camera: a device index ("0"), an RTSP/HTTP URL, or a video file
(tests, benchmarks, replaying a recorded queue).

Live sources are reopened with backoff when they fail; a file simply ends.
Every failure is a ``CameraError`` with a message an operator understands.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from .errors import CameraError

log = logging.getLogger(__name__)

MSG_NO_CAMERA = "摄像头无法打开: {spec}（请检查连接、设备号或视频流地址）"
MSG_NO_FRAME = "摄像头没有画面: {spec}，正在重连"


class FrameSource:
    def __init__(self, spec: str | int | Path, *, reconnect_min: float = 0.5, reconnect_max: float = 10.0) -> None:
        self.spec = str(spec)
        self.is_file = not self.spec.isdigit() and "://" not in self.spec
        self.reconnect_min = reconnect_min
        self.reconnect_max = reconnect_max
        self._cap = None
        self._backoff = reconnect_min
        self.fps: float = 0.0
        self.frames_read = 0
        # Backoff waits on this event, so a stopping process is not held by a sleeping reader.
        self._interrupted = threading.Event()

    def open(self) -> None:
        import cv2

        if self.is_file and not Path(self.spec).is_file():
            raise CameraError(f"视频文件不存在: {self.spec}")
        source: int | str = int(self.spec) if self.spec.isdigit() else self.spec
        cap = cv2.VideoCapture(source)
        if not cap.isOpened():
            cap.release()
            raise CameraError(MSG_NO_CAMERA.format(spec=self.spec))
        self._cap = cap
        self.fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._backoff = self.reconnect_min

    def read(self) -> np.ndarray | None:
        """The next BGR frame; None when a video file has ended.

        A live source that stops delivering raises ``CameraError`` once and is
        reopened on the next call (with backoff), so the caller just logs and
        keeps calling.
        """
        if self._cap is None:
            if self.is_file and self.frames_read:
                return None
            self._reopen()
        assert self._cap is not None
        ok, frame = self._cap.read()
        if ok and frame is not None and frame.size:
            self.frames_read += 1
            self._backoff = self.reconnect_min
            return frame
        if self.is_file:
            self.close()
            if self.frames_read == 0:
                raise CameraError(f"视频文件无法解码: {self.spec}")
            return None
        self.close()
        raise CameraError(MSG_NO_FRAME.format(spec=self.spec))

    def _reopen(self) -> None:
        try:
            self.open()
        except CameraError:
            if self.is_file:
                raise
            delay = self._backoff
            self._backoff = min(self.reconnect_max, self._backoff * 2)
            self._interrupted.wait(delay)
            raise

    def interrupt(self) -> None:
        """End a reconnect wait now (the process is stopping); the caller stops reading."""
        self._interrupted.set()

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Offline liveness: is the face in front of the camera a person, or a photo /
phone screen held up to it?

The 5-point landmark model cannot see blinks (that needs eyelid landmarks), and
the 2D geometry of five points barely changes between a flat photo and a
turning head. What does differ is *motion against the surroundings*: a printed
photo or a phone moves as one rigid sheet, so the pixels just around the face
(the photo's own background, the phone's bezel, the hand) move exactly as the
face does; a real head moves in front of a background that stays put.

``MotionLiveness`` tracks one person over a few frames with dense optical flow
(Farneback) on a region around the face and compares the median motion in a
ring around the face with the motion of the face itself:

- face barely moved -> undecided (the agent asks the person to turn their head);
- ring moved nearly as much as the face -> a flat medium: refused;
- ring still while the face moved -> live.

Known limits (see ``measure_on_samples`` and the README figures): a photo cut
out along the face outline and moved in front of a real background passes; so
does a print whose surroundings are uniform (no texture to show motion); a
person standing perfectly still is never decided. It costs the member a small
head movement, so it is off by default and switched on with
``HALL_FACE_LIVENESS=parallax`` where unattended check-in must resist photos.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engines import FaceBox

# Work on a region where the face is about this wide: enough for flow, cheap.
_FACE_PX = 64


@dataclass(frozen=True)
class LivenessVerdict:
    live: bool
    face_motion: float   # accumulated face motion, in face widths
    ring_ratio: float    # ring motion / face motion (about 1 for a flat medium, about 0 for a person)
    frames: int


class MotionLiveness:
    def __init__(self, *, frames: int = 8, min_motion: float = 0.08, max_ring_ratio: float = 0.5) -> None:
        self.frames = frames
        self.min_motion = min_motion
        self.max_ring_ratio = max_ring_ratio
        self._reset()

    @classmethod
    def from_config(cls, config) -> "MotionLiveness":
        return cls(frames=config.liveness_frames, min_motion=config.liveness_min_motion)

    def _reset(self) -> None:
        self._region: tuple[int, int, int, int] | None = None
        self._scale = 1.0
        self._prev: np.ndarray | None = None
        self._face_total = 0.0
        self._ring_total = 0.0
        self._steps = 0
        self._face_w = 1.0

    def update(self, bgr: np.ndarray, box: FaceBox) -> LivenessVerdict | None:
        """Feed one frame of the tracked person; a verdict once enough frames are in."""
        import cv2

        if self._region is None:
            height, width = bgr.shape[:2]
            x0, y0 = max(0, box.x - box.w), max(0, box.y - box.h)
            x1, y1 = min(width, box.x + 2 * box.w), min(height, box.y + 2 * box.h)
            self._region = (x0, y0, x1, y1)
            self._scale = _FACE_PX / max(1, box.w)
            self._face_w = _FACE_PX
        x0, y0, x1, y1 = self._region
        crop = bgr[y0:y1, x0:x1]
        grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
        size = (max(8, round((x1 - x0) * self._scale)), max(8, round((y1 - y0) * self._scale)))
        small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        if self._prev is not None and self._prev.shape == small.shape:
            flow = cv2.calcOpticalFlowFarneback(self._prev, small, None, 0.5, 3, 15, 3, 5, 1.2, 0)
            magnitude = np.hypot(flow[..., 0], flow[..., 1])
            face_mask, ring_mask = self._masks(small.shape, box)
            if face_mask.sum() < 50 or ring_mask.sum() < 0.2 * face_mask.sum():
                # Face at the frame's edge: no surroundings to compare with.
                self._reset()
                return None
            self._face_total += float(np.median(magnitude[face_mask]))
            self._ring_total += float(np.median(magnitude[ring_mask]))
            self._steps += 1
        self._prev = small
        if self._steps + 1 < self.frames:
            return None
        motion = self._face_total / self._face_w
        ratio = self._ring_total / max(self._face_total, 1e-6)
        steps = self._steps + 1
        self._reset()
        if motion < self.min_motion:
            return None
        return LivenessVerdict(ratio <= self.max_ring_ratio, round(motion, 4), round(ratio, 4), steps)

    def _masks(self, shape: tuple[int, ...], box: FaceBox) -> tuple[np.ndarray, np.ndarray]:
        x0, y0, _, _ = self._region  # type: ignore[misc]
        s = self._scale
        h, w = shape[:2]
        yy, xx = np.mgrid[0:h, 0:w]
        fx0, fy0 = (box.x - x0) * s, (box.y - y0) * s
        fw, fh = box.w * s, box.h * s
        inner = 0.15
        face = ((xx >= fx0 + inner * fw) & (xx < fx0 + (1 - inner) * fw)
                & (yy >= fy0 + inner * fh) & (yy < fy0 + (1 - inner) * fh))
        pad = 0.3
        near = ((xx >= fx0 - pad * fw) & (xx < fx0 + (1 + pad) * fw)
                & (yy >= fy0 - pad * fh) & (yy < fy0 + (1 + pad) * fh))
        ring = ~near & (xx >= fx0 - 0.9 * fw) & (xx < fx0 + 1.9 * fw) & (yy >= fy0 - 0.9 * fh) & (yy < fy0 + 1.9 * fh)
        return face, ring


# -- measuring it on what this machine can produce ------------------------------------------

def _scene(width: int, height: int, seed: int) -> np.ndarray:
    """A static, textured room-like background (no real room photos are available here)."""
    import cv2

    rng = np.random.default_rng(seed)
    grey = rng.integers(60, 200, (height // 8, width // 8, 1), dtype=np.uint8)
    tint = np.array([0.9, 1.0, 1.1])  # a warm, low-saturation wall
    noise = np.clip(grey * tint, 0, 255).astype(np.uint8)
    scene = cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)
    return cv2.GaussianBlur(scene, (0, 0), 2)


def attack_frames(photo: np.ndarray, *, frames: int = 8, size=(640, 480), seed: int = 0,
                  cutout: bool = False) -> list[np.ndarray]:
    """A photo held up to the camera and moved by hand (rigid, with slight
    perspective), or, with ``cutout``, only the face region moved over a static
    scene: the stand-in for a real head moving in front of a real background."""
    import cv2

    width, height = size
    rng = np.random.default_rng(seed)
    scene = _scene(width, height, seed)
    ph, pw = photo.shape[:2]
    scale = 0.75 * height / ph
    print_w, print_h = int(pw * scale), int(ph * scale)
    printed = cv2.resize(photo, (print_w, print_h), interpolation=cv2.INTER_AREA)
    src = np.float32([[0, 0], [print_w, 0], [print_w, print_h], [0, print_h]])
    mask_src = np.full((print_h, print_w), 255, np.uint8)
    if cutout:
        # Ellipse around the face (upper-middle of a portrait).
        mask_src[:] = 0
        cv2.ellipse(mask_src, (print_w // 2, int(print_h * 0.42)), (int(print_w * 0.26), int(print_h * 0.3)),
                    0, 0, 360, 255, -1)
    cx, cy = (width - print_w) / 2, (height - print_h) / 2
    out = []
    for i in range(frames):
        t = i / max(1, frames - 1)
        dx, dy = 40 * np.sin(2 * t) + rng.normal(0, 1), 12 * t + rng.normal(0, 1)
        tilt = 0.06 * np.sin(3 * t) * print_w
        dst = np.float32([[cx + dx + tilt, cy + dy], [cx + dx + print_w - tilt, cy + dy + tilt / 2],
                          [cx + dx + print_w, cy + dy + print_h], [cx + dx, cy + dy + print_h - tilt / 2]])
        matrix = cv2.getPerspectiveTransform(src, dst)
        warped = cv2.warpPerspective(printed, matrix, (width, height))
        mask = cv2.warpPerspective(mask_src, matrix, (width, height)) > 127
        frame = scene.copy()
        frame[mask] = warped[mask]
        noise = rng.normal(0, 2.0, frame.shape)
        out.append(np.clip(frame + noise, 0, 255).astype(np.uint8))
    return out


def portrait(image: np.ndarray, detector) -> np.ndarray:
    """Head-and-shoulders crop around the largest face (what an ID photo or a
    phone selfie shows); the whole image when no face is found."""
    boxes = detector.detect(image)
    if not boxes:
        return image
    b = boxes[0]
    height, width = image.shape[:2]
    x0, x1 = max(0, b.x - b.w), min(width, b.x + 2 * b.w)
    y0, y1 = max(0, b.y - int(0.8 * b.h)), min(height, b.y + int(2.2 * b.h))
    return image[y0:y1, x0:x1]


def evaluate(frames: list[np.ndarray], detector, **kw) -> LivenessVerdict | None:
    checker = MotionLiveness(frames=len(frames), **kw)
    verdict = None
    for frame in frames:
        boxes = detector.detect(frame)
        if not boxes:
            continue
        verdict = checker.update(frame, boxes[0]) or verdict
    return verdict


def measure_on_samples(images: dict[str, np.ndarray], pipeline) -> dict:
    """Spoof rejection on simulated prints/screens and acceptance on the cut-out
    proxy for live heads; the proxy is synthetic, so the live figure is only an
    indication, not a measurement on people."""
    spoofs = spoof_rejected = lives = live_accepted = undecided = 0
    for seed, image in enumerate(images.values()):
        image = portrait(image, pipeline.detector)
        for cutout in (False, True):
            verdict = evaluate(attack_frames(image, seed=seed, cutout=cutout), pipeline.detector)
            if cutout:
                lives += 1
                live_accepted += bool(verdict and verdict.live)
            else:
                spoofs += 1
                spoof_rejected += bool(verdict is not None and not verdict.live)
            undecided += verdict is None
    return {"liveness_print_trials": spoofs, "liveness_print_rejected": spoof_rejected,
            "liveness_proxy_live_trials": lives, "liveness_proxy_live_accepted": live_accepted,
            "liveness_undecided": undecided}

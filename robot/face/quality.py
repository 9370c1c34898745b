"""Pure checks on frames, faces and landmarks (no engines)."""

from __future__ import annotations

import numpy as np


def frame_brightness(bgr: np.ndarray) -> float:
    """Mean grey level, 0-255, estimated on a subsample (a full 1080p mean is waste)."""
    sample = bgr[::8, ::8]
    if sample.ndim == 3:
        # ITU-R 601 luma from BGR.
        sample = sample[..., 0] * 0.114 + sample[..., 1] * 0.587 + sample[..., 2] * 0.299
    return float(sample.mean()) if sample.size else 0.0


def sharpness(grey: np.ndarray) -> float:
    """Variance of the Laplacian: low on blurred or defocused images."""
    import cv2

    if grey.ndim == 3:
        grey = cv2.cvtColor(grey, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def face_sharpness(bgr: np.ndarray, x: int, y: int, w: int, h: int) -> float:
    """Sharpness of the face normalised to 128 px wide so near and far faces compare."""
    import cv2

    crop = bgr[y:y + h, x:x + w]
    if crop.size == 0:
        return 0.0
    crop = cv2.resize(crop, (128, max(1, round(128 * h / max(1, w)))), interpolation=cv2.INTER_AREA)
    return sharpness(crop)


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(eye A, eye B, nose) from 5 landmarks in dlib order (eye corners x4, nose base)
    or YuNet order (eye, eye, nose tip, mouth, mouth)."""
    if len(landmarks) != 5:
        raise ValueError("five landmarks expected")
    return landmarks[0], landmarks[1], landmarks[2]


def dlib_eyes_nose(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (landmarks[0] + landmarks[1]) / 2.0, (landmarks[2] + landmarks[3]) / 2.0, landmarks[4]


def plausible_face(landmarks: np.ndarray, box_w: int, *, dlib_order: bool = True) -> bool:
    """Reject detector false positives (a hand, a tie) whose fitted landmarks do not
    look like a face: eyes side by side, about a third to two thirds of the box
    apart, nose below the eye line."""
    a, b, nose = dlib_eyes_nose(landmarks) if dlib_order else eye_centres(landmarks)
    eye_vec = b - a
    iod = float(np.hypot(*eye_vec))
    if not (0.2 * box_w <= iod <= 0.8 * box_w):
        return False
    if abs(eye_vec[1]) > abs(eye_vec[0]):  # rolled more than 45 degrees
        return False
    mid = (a + b) / 2.0
    # Signed distance of the nose from the eye line, positive "below" in face coordinates.
    normal = np.array([-eye_vec[1], eye_vec[0]]) / max(iod, 1e-6)
    drop = float(np.dot(nose - mid, normal if normal[1] > 0 else -normal))
    return 0.25 * iod <= drop <= 1.5 * iod

"""Motion liveness on what this machine can produce: a real photo held up as a
print (moved rigidly with perspective) is refused; the face region alone moving
over a static scene (the stand-in for a head in front of a wall) passes; a
face that does not move is never decided."""

from __future__ import annotations

import cv2

from tests.robot.face_fixtures import face_photos, face_pipeline  # noqa: F401  (fixtures)
from robot.face.liveness import MotionLiveness, attack_frames, evaluate, portrait


def test_print_refused_moving_head_proxy_accepted_still_undecided(face_photos, face_pipeline):
    image = portrait(cv2.imread(str(face_photos["obama2"])), face_pipeline.detector)
    printed = evaluate(attack_frames(image, seed=1), face_pipeline.detector)
    assert printed is not None and printed.live is False and printed.ring_ratio > 0.5
    head = evaluate(attack_frames(image, seed=1, cutout=True), face_pipeline.detector)
    assert head is not None and head.live is True and head.ring_ratio < 0.2

    still = attack_frames(image, seed=1, frames=1) * 6
    checker = MotionLiveness(frames=6)
    boxes = face_pipeline.detector.detect(still[0])
    assert [checker.update(f, boxes[0]) for f in still] == [None] * 6  # no motion: keep asking

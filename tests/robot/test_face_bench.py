"""The benchmark runs end to end and its correctness figures hold (no timing
is asserted: speed is reported by `hall bench face`, not tested)."""

from __future__ import annotations

import os

from tests.robot.face_fixtures import face_photos  # noqa: F401  (fixture)


def test_bench_face_runs_and_never_accepts_the_unknown(face_photos, capsys):
    from robot.face.bench import run_bench

    import cv2

    affinity, threads, env = os.sched_getaffinity(0), cv2.getNumThreads(), dict(os.environ)
    try:
        figures = run_bench(photos=face_photos["obama"].parent, members=2000, as_json=True, repeat=1, core=None,
                            liveness=False, queue_rounds=1)
    finally:
        # The bench pins the process to one core and one thread; give the other tests the machine back.
        os.sched_setaffinity(0, affinity)
        cv2.setNumThreads(threads)
        os.environ.clear()
        os.environ.update(env)
    assert figures["false_accepts"] == 0 and figures["wrong_person"] == 0
    assert figures["queue_unknown_checked_in"] == 0 and figures["queue_missed"] == 0
    assert figures["checkins"] == figures["queue_people"] > 0
    assert figures["faces_timed"] == 5 and figures["members"] == 2000
    assert '"bench": "face"' in capsys.readouterr().out

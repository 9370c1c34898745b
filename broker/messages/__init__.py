"""The MQTT topic contract. Services import message classes from here; no
topic string is written anywhere else in the project."""

from .alert import ALL_GROUPS, AlertAck, EmergencyAlert
from .attendance import AttendanceBoard, CheckIn, CheckInAck, ExhibitView, LearningPoints, PointsAck
from .base import ROOT, Message, MessageError, message_class_for, new_id, now
from .fleet import (
    Availability,
    CommandReply,
    DesiredState,
    DeviceCommand,
    DeviceError,
    PlayRecord,
    ProofOfPlay,
    ProofOfPlayAck,
    ReportedState,
    Telemetry,
)
from .robot import DialogueSession, DialogueTurn, GuideAction, GuideStatus

__all__ = [
    "ALL_GROUPS", "ROOT", "AlertAck", "AttendanceBoard", "Availability", "CheckIn", "CheckInAck",
    "CommandReply", "DesiredState", "DeviceCommand", "DeviceError", "DialogueSession", "DialogueTurn",
    "EmergencyAlert", "ExhibitView", "GuideAction", "GuideStatus", "LearningPoints", "Message",
    "MessageError", "PlayRecord", "PointsAck", "ProofOfPlay", "ProofOfPlayAck", "ReportedState",
    "Telemetry", "message_class_for", "new_id", "now",
]

"""Face-based meeting check-in (三会一课签到) for the guide robot and kiosk cameras.

Layers, lowest first:

- ``engines``: detector and embedder interfaces plus their factories (OpenCV Haar
  cascade, dlib HOG, YuNet; dlib ResNet, SFace). Heavy imports (cv2, dlib) happen
  only when an engine is built, so importing this package stays cheap.
- ``gallery``: 1:N search in numpy; an unknown face is never accepted.
- ``vault``: encrypted, deletable storage of members' embeddings (enrolment).
- ``bundle``: the signed gallery a robot receives for the meetings it serves.
- ``liveness``: an offline check against printed photos and screens.
- ``checkin`` / ``outbox`` / ``agent``: the camera loop that checks members in.
"""

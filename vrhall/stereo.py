"""Side-by-side stereo (always available) and the OpenVR check.

Two display regions, each half the window, each with its own camera an eye
apart under the visitor's camera node: any big screen with a side-by-side 3D
mode, or a phone headset, shows the hall in depth without extra software."""

from __future__ import annotations

from dataclasses import dataclass, field

EYE_SEPARATION = 0.064  # metres, an adult average


@dataclass
class StereoRig:
    win: object       # GraphicsOutput
    camera: object    # the visitor's NodePath (moves and turns)
    cam: object       # the mono camera NodePath, whose region is switched off meanwhile
    fov: float = 80.0
    eyes: list = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.eyes)

    def enable(self) -> None:
        from panda3d.core import Camera, PerspectiveLens

        if self.eyes:
            return
        self._mono_regions(False)
        aspect = self.win.getXSize() / 2 / max(1, self.win.getYSize())
        for i, (left, right, dx) in enumerate(((0.0, 0.5, -EYE_SEPARATION / 2), (0.5, 1.0, EYE_SEPARATION / 2))):
            lens = PerspectiveLens()
            lens.setFov(self.fov)
            lens.setNear(0.05)
            lens.setFar(70)
            lens.setAspectRatio(aspect)
            eye = self.camera.attachNewNode(Camera(f"eye-{i}", lens))
            eye.setX(dx)
            region = self.win.makeDisplayRegion(left, right, 0, 1)
            region.setCamera(eye)
            region.setSort(-1)
            self.eyes.append((eye, region))

    def disable(self) -> None:
        for eye, region in self.eyes:
            self.win.removeDisplayRegion(region)
            eye.removeNode()
        self.eyes = []
        self._mono_regions(True)

    def _mono_regions(self, active: bool) -> None:
        for region in self.win.getDisplayRegions():
            if region.getCamera() == self.cam:
                region.setActive(active)


def openvr_message() -> str | None:
    """None when OpenVR can start; else the reason, in Chinese, for the screen."""
    try:
        import p3dopenvr  # noqa: F401
    except ImportError:
        return "未安装 panda3d-openvr：已改用并排立体模式（pip install panda3d-openvr 并安装 SteamVR 后可使用头显）"
    try:
        import openvr

        if not openvr.isRuntimeInstalled() or not openvr.isHmdPresent():
            return "未检测到 SteamVR 或头显：已改用并排立体模式"
    except Exception as exc:  # openvr raises its own errors when the runtime is missing
        return f"OpenVR 无法启动（{exc}）：已改用并排立体模式"
    return None

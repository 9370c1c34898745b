"""`hall status`: every endpoint, online or offline, desired vs applied."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from .client import HallClient
from .messages import Availability, DesiredState, ReportedState
from .settings import HallSettings

ENDPOINT_KINDS = {"kiosk", "vrhall", "robot"}


@dataclass
class DeviceRow:
    device_id: str
    kind: str = "?"
    online: bool = False
    groups: list[str] = field(default_factory=list)
    group: str | None = None
    applied_version: int | None = None
    status: str | None = None
    error: str | None = None
    last_seen: float | None = None


@dataclass
class FleetView:
    devices: dict[str, DeviceRow] = field(default_factory=dict)
    desired: dict[str, int] = field(default_factory=dict)

    def row(self, device_id: str) -> DeviceRow:
        return self.devices.setdefault(device_id, DeviceRow(device_id))

    def endpoints(self) -> list[DeviceRow]:
        return sorted((r for r in self.devices.values() if r.kind in ENDPOINT_KINDS), key=lambda r: r.device_id)

    def desired_for(self, row: DeviceRow) -> int | None:
        group = row.group or (row.groups[0] if row.groups else None)
        return self.desired.get(group) if group else None

    def in_sync(self, row: DeviceRow) -> bool:
        want = self.desired_for(row)
        return row.online and want is not None and row.applied_version == want and row.status == "applied"

    def all_in_sync(self) -> bool:
        rows = self.endpoints()
        return bool(rows) and all(self.in_sync(r) for r in rows)


async def collect(settings: HallSettings, *, seconds: float = 1.5, until_in_sync: float = 0.0,
                  expect: int = 0) -> FleetView:
    """Read the retained state. With ``until_in_sync``, keep listening up to
    that many seconds for every endpoint (at least ``expect`` of them) to be
    online with the desired version applied."""
    view = FleetView()

    async def on_availability(msg: Availability) -> None:
        row = view.row(msg.device_id)
        row.kind, row.online, row.groups, row.last_seen = msg.kind, msg.state == "online", msg.groups, msg.ts

    async def on_reported(msg: ReportedState) -> None:
        row = view.row(msg.device_id)
        row.kind = msg.kind
        row.group, row.applied_version, row.status, row.error = msg.group, msg.applied_version, msg.status, msg.error
        row.last_seen = max(row.last_seen or 0, msg.ts)

    async def on_desired(msg: DesiredState) -> None:
        view.desired[msg.group] = msg.version

    client = HallClient(settings, client_id=f"{settings.mqtt_username or 'hall-cli'}-{int(time.time() * 1000) % 100000}",
                        kind="bench", availability=False)
    client.subscribe(Availability, on_availability)
    client.subscribe(ReportedState, on_reported)
    client.subscribe(DesiredState, on_desired)
    await client.start()
    deadline = time.monotonic() + until_in_sync
    try:
        # With --wait the broker may still be starting (hall up): wait for it too.
        if not await client.wait_connected(max(5.0, until_in_sync)):
            raise ConnectionError(f"无法连接消息服务器 {settings.mqtt_host}:{settings.mqtt_port}")
        await asyncio.sleep(seconds)
        while time.monotonic() < deadline:
            if view.all_in_sync() and len(view.endpoints()) >= expect:
                break
            await asyncio.sleep(0.5)
    finally:
        await client.stop()
    return view


def render(view: FleetView) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="党建展厅 · 终端状态")
    for col in ("设备", "类型", "在线", "分组", "目标版本", "已应用", "状态", "最后上报"):
        table.add_column(col)
    for row in view.endpoints():
        want = view.desired_for(row)
        seen = time.strftime("%H:%M:%S", time.localtime(row.last_seen)) if row.last_seen else "-"
        status = row.status or "-"
        if row.error:
            status += f" ({row.error[:40]})"
        table.add_row(row.device_id, row.kind, "[green]在线[/]" if row.online else "[red]离线[/]",
                      row.group or ",".join(row.groups) or "-", str(want) if want is not None else "-",
                      str(row.applied_version) if row.applied_version is not None else "-",
                      f"[green]{status}[/]" if view.in_sync(row) else f"[yellow]{status}[/]", seen)
    Console().print(table)

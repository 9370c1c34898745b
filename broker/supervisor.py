"""`hall up`: run every part as its own process, restart what crashes with
backoff, stop everything cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


def restart_delay(failures: int, *, base: float = 1.0, cap: float = 30.0) -> float:
    """Exponential backoff: 1, 2, 4 … seconds, capped."""
    return min(cap, base * (2 ** max(0, failures - 1)))


# A process that ran this long is healthy again: its next crash starts the backoff over.
HEALTHY_AFTER_S = 60.0


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    restart: bool = True
    # Seconds to wait before starting it (the broker gets a head start).
    start_delay: float = 0.0


@dataclass
class _Running:
    spec: ProcessSpec
    proc: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    failures: int = 0
    restarts: int = 0


class Supervisor:
    def __init__(self, specs: list[ProcessSpec], *, log_dir: Path, stop_timeout: float = 10.0) -> None:
        self.specs = specs
        self.log_dir = log_dir
        self.stop_timeout = stop_timeout
        self.running: dict[str, _Running] = {s.name: _Running(s) for s in specs}
        self._stopping = asyncio.Event()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._stopping.set)
            except (NotImplementedError, RuntimeError):
                pass
        self.log_dir.mkdir(parents=True, exist_ok=True)
        watchers = []
        for spec in self.specs:
            if spec.start_delay:
                await asyncio.sleep(spec.start_delay)
            watchers.append(asyncio.create_task(self._watch(self.running[spec.name]), name=f"watch-{spec.name}"))
        await self._stopping.wait()
        log.info("stopping %d processes", len(self.running))
        await self._stop_all()
        for task in watchers:
            task.cancel()
        return 0

    def stop(self) -> None:
        self._stopping.set()

    async def _spawn(self, state: _Running) -> None:
        spec = state.spec
        logfile = open(self.log_dir / f"{spec.name}.log", "ab", buffering=0)
        env = {**os.environ, **spec.env, "PYTHONUNBUFFERED": "1"}
        state.proc = await asyncio.create_subprocess_exec(
            *spec.argv, env=env, stdout=logfile, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True)  # its own group: Ctrl-C reaches us, we stop it in order
        logfile.close()
        state.started_at = time.monotonic()
        log.info("started %s (pid %s)", spec.name, state.proc.pid)

    async def _watch(self, state: _Running) -> None:
        while not self._stopping.is_set():
            await self._spawn(state)
            assert state.proc is not None
            code = await state.proc.wait()
            if self._stopping.is_set():
                return
            ran = time.monotonic() - state.started_at
            state.failures = 1 if ran >= HEALTHY_AFTER_S else state.failures + 1
            if not state.spec.restart:
                log.warning("%s exited with %s; not restarted", state.spec.name, code)
                return
            delay = restart_delay(state.failures)
            state.restarts += 1
            log.warning("%s exited with %s after %.1fs; restart %d in %.0fs (log: %s)", state.spec.name, code,
                        ran, state.restarts, delay, self.log_dir / f"{state.spec.name}.log")
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
            except asyncio.TimeoutError:
                pass

    async def _stop_all(self) -> None:
        # Endpoints first, the broker last, so endpoints can say goodbye.
        for state in reversed(list(self.running.values())):
            proc = state.proc
            if proc is None or proc.returncode is not None:
                continue
            try:
                proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                continue
        for state in self.running.values():
            proc = state.proc
            if proc is None or proc.returncode is not None:
                continue
            try:
                await asyncio.wait_for(proc.wait(), self.stop_timeout)
            except asyncio.TimeoutError:
                log.warning("%s did not stop in %.0fs; killing", state.spec.name, self.stop_timeout)
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                await proc.wait()

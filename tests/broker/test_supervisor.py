"""The supervisor restarts what crashes, with backoff, and stops everything on SIGTERM."""

from __future__ import annotations

import asyncio
import sys

from broker.supervisor import ProcessSpec, Supervisor, restart_delay


def test_restart_delay_grows_and_is_capped():
    delays = [restart_delay(n) for n in range(1, 10)]
    assert delays[:4] == [1, 2, 4, 8]
    assert max(delays) == 30
    assert delays == sorted(delays)


def test_crashing_process_is_restarted_and_all_stop_cleanly(tmp_path):
    marker = tmp_path / "starts"
    crasher = [sys.executable, "-c",
               f"open({str(marker)!r}, 'a').write('x'); import sys; sys.exit(3)"]
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    sup = Supervisor([ProcessSpec("crasher", crasher), ProcessSpec("sleeper", sleeper)], log_dir=tmp_path / "logs",
                     stop_timeout=5)

    async def scenario():
        runner = asyncio.create_task(sup.run())
        # backoff 1 s then 2 s: at least two restarts inside ~4 s
        deadline = asyncio.get_running_loop().time() + 15
        while asyncio.get_running_loop().time() < deadline:
            if marker.exists() and len(marker.read_text()) >= 3:
                break
            await asyncio.sleep(0.1)
        sleeper_proc = sup.running["sleeper"].proc
        sup.stop()
        assert await asyncio.wait_for(runner, 20) == 0
        return sleeper_proc

    sleeper_proc = asyncio.run(scenario())
    assert len(marker.read_text()) >= 3, "the crashing process was restarted"
    assert sup.running["crasher"].restarts >= 2
    assert sleeper_proc.returncode is not None, "the healthy process was stopped"
    assert sup.running["sleeper"].restarts == 0
    assert (tmp_path / "logs" / "crasher.log").exists()

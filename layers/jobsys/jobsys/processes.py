"""The command's processes, as Linux sees them: started in a group of their own, read line by line,
measured from /proc, and stopped all together."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import queue
import selectors
import signal
import subprocess
import sys
import time
from typing import IO

from jobsys.streams import Stream

log = logging.getLogger(__name__)

KILL_GRACE = 5.0  # seconds between SIGTERM and SIGKILL


PR_SET_DUMPABLE = 4  # <linux/prctl.h>


def keep_runner_private() -> None:
    """A command runs as the runner's user, so it could read the runner's environment (the
    function's credentials) from /proc/<runner>/environ, or attach to it. A process that is not
    dumpable can be read or attached to only with CAP_SYS_PTRACE, which neither Lambda nor Fargate
    grants by default. A command's own exec makes it dumpable again: nothing changes for it."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        log.warning("could not make the runner undumpable: errno %d", ctypes.get_errno())


READ_SIZE = 65536


def pump_lines(pipes: dict[Stream, IO[bytes]], lines: queue.Queue[tuple[Stream, str] | None]) -> None:
    """Each line of the command's pipes, with the stream it came from, in the order they are read;
    None once both have ended.

    One thread reads both, each as soon as it holds anything, so lines keep the order they were
    written in, but for lines written to both within the same moment: no pipe says which came
    first, and those of stdout are taken first (a command's output before the error it ends on)."""
    selector = selectors.DefaultSelector()
    partial: dict[Stream, bytes] = {}
    for name, pipe in pipes.items():
        selector.register(pipe, selectors.EVENT_READ, name)
        partial[name] = b""
    try:
        while selector.get_map():
            ready = sorted((key for key, _ in selector.select()), key=lambda key: key.data != "stdout")
            for key in ready:
                stream: Stream = key.data
                chunk = os.read(key.fd, READ_SIZE)
                if not chunk:
                    selector.unregister(key.fileobj)
                    rest, partial[stream] = partial[stream], b""
                    if rest:  # a last line without its newline
                        lines.put((stream, _text(rest)))
                    continue
                *whole, partial[stream] = (partial[stream] + chunk).split(b"\n")
                for raw in whole:
                    lines.put((stream, _text(raw)))
    finally:
        selector.close()
        lines.put(None)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").rstrip("\r")


class MemoryWatch:
    """The command's peak memory, from /proc: the most its processes held at once (their resident
    sets summed, each second), or its main process's own high-water mark, whichever is higher.

    Not the rusage's ru_maxrss: Linux counts in it the runner's pages at the fork, before exec.
    """

    def __init__(self, group: int | None):
        self.group = group
        self.peak_kb = 0

    @property
    def peak_mb(self) -> float | None:
        return round(self.peak_kb / 1024, 1) if self.peak_kb else None

    def look(self, every_process: bool) -> None:
        if self.group is None:
            return
        main = _status_kb(self.group)
        self.peak_kb = max(self.peak_kb, main.get("VmHWM", 0))
        if every_process:
            members = [pid for pid in _pids() if _group_of(pid) == self.group]
            self.peak_kb = max(self.peak_kb, sum(_status_kb(pid).get("VmRSS", 0) for pid in members))


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _group_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None


def _status_kb(pid: int) -> dict[str, int]:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            return {
                key: int(value.split()[0])
                for key, _, value in (line.partition(":") for line in status)
                if key in ("VmHWM", "VmRSS") and value.strip()
            }
    except (OSError, ValueError):
        return {}


def reap(process: subprocess.Popen[bytes], block: bool = False) -> int | None:
    """Popen.poll (or wait) through wait4, which also tells what the command used: its rusage,
    kept on the process. Popen does not ask again once the return code is set."""
    if process.returncode is None:
        try:
            pid, status, usage = os.wait4(process.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere
            return process.poll()
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            process.rusage = usage  # type: ignore[attr-defined]
    return process.returncode


def group_alive(group: int) -> bool:
    """A process of the group still runs: a zombie does not count (an orphan the runner adopted
    stays one until `end_strays` reaps it)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(group) and fields[0] != "Z":
            return True
    return False


PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>


def adopt_orphans() -> None:
    """What a command leaves behind when its parent exits (a child in a session of its own, out of
    the command's group) becomes the runner's child rather than init's, so that `end_strays` finds
    it: nothing of one job may live on into the next invocation of a warm sandbox."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        log.warning("could not make the runner a subreaper: errno %d", ctypes.get_errno())


def children() -> set[int]:
    """The processes whose parent is the runner's process, zombies included."""
    me = os.getpid()
    found = set()
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                if int(stat.read().rsplit(")", 1)[1].split()[1]) == me:
                    found.add(pid)
        except (OSError, IndexError, ValueError):
            continue
    return found


def end_strays(known: set[int]) -> None:
    """Kills and reaps the runner's children that `known` (its children before the command started)
    does not hold: what the command left, however it detached."""
    for pid in children() - known:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def end_group(group: int) -> None:
    """SIGTERM to what is left of a command's group after its main process ended, then SIGKILL."""
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + KILL_GRACE
    while time.monotonic() < deadline and group_alive(group):
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the command's whole process group, then SIGKILL to whatever is left of it:
    a child that ignores SIGTERM outlives its parent otherwise."""
    group = process.pid  # start_new_session made the command its group's leader
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + KILL_GRACE
    while time.monotonic() < deadline:
        reap(process)  # reaps our child, which would otherwise linger in the group as a zombie
        if not group_alive(group):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    reap(process, block=True)

"""Running an untrusted Python program from asyncio: what `run_python` builds on.

The program runs under a supervisor process (`supervisor.py`, which confines it and
ends every process it starts), in an empty temporary folder, with a minimal
environment: none of this process's variables (API keys included) reach it. Its
output is read as it streams, and only the first `OUTPUT_CAP` bytes of each stream are
kept: a program that prints gigabytes costs this process no memory.

When the supervisor cannot do its job — the program killed it (possible only where
Landlock's signal scoping is missing), or it hung — this side ends what is left: the
program's process group, and every process whose environment carries this call's
marker (a program can drop the marker only by replacing its environment at `exec`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUTPUT_CAP = 64 * 1024  # bytes kept of each of stdout and stderr; the rest is dropped
PROCESS_LIMIT = 64  # processes the program may have at once
GRACE = 5.0  # seconds past the time limit before the supervisor itself is stopped
POLL = 0.01  # seconds between looks at the supervisor
SUPERVISOR = str(Path(__file__).with_name("supervisor.py"))
MARKER = "ROLEGRAPH_SANDBOX"


@dataclass
class Outcome:
    """How a program ran: its output (capped), how it ended, and what confined it."""

    stdout: bytes = b""
    stderr: bytes = b""
    dropped: int = 0  # bytes of output read past the caps, and dropped
    # "exited", "time", "processes", "cancelled", "not started", or "lost" (the
    # supervisor ended without a word: the program killed it)
    end: str = "lost"
    code: int | None = None  # the program's exit status (negative: the signal)
    pid: int | None = None  # the program's process (and its group)
    isolation: dict[str, Any] = field(default_factory=dict)
    error: str = ""


async def run_confined(
    code: str,
    timeout: float,
    memory: int,
    processes: int = PROCESS_LIMIT,
    *,
    isolate: bool = True,
) -> Outcome:
    """Run `code` as `main.py` in a fresh folder under the supervisor; wait for it, and
    for the end of every process it started. With `isolate=False`, no network namespace
    and no Landlock: only the limits, the minimal environment and the ending of every
    process hold (what a kernel without either gives; tests use it)."""
    marker = secrets.token_hex(8)
    with tempfile.TemporaryDirectory(
        prefix="rolegraph-python-", ignore_cleanup_errors=True
    ) as folder:
        Path(folder, "main.py").write_bytes(code.encode("utf-8", "replace"))
        status_in, status_out = os.pipe()
        try:
            supervisor = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",
                "-S",
                SUPERVISOR,
                folder,
                str(timeout),
                str(memory),
                str(processes),
                str(status_out),
                "isolate" if isolate else "limits",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=folder,
                env=environment(folder, marker),
                start_new_session=True,
                pass_fds=(status_out,),
            )
        except BaseException:
            os.close(status_in)
            raise
        finally:
            os.close(status_out)
        try:
            outcome = await _supervised(supervisor, status_in, marker, timeout)
        finally:
            os.close(status_in)
        # the folder's name is random: what the program printed must not depend on it
        # (a traceback names `main.py` by its full path), or runs would differ
        here = folder.encode()
        outcome.stdout = outcome.stdout.replace(here, b".")
        outcome.stderr = outcome.stderr.replace(here, b".")
        return outcome


def environment(folder: str, marker: str) -> dict[str, str]:
    """The program's whole environment: nothing inherited."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": folder,
        "TMPDIR": folder,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        MARKER: marker,
    }


async def _supervised(
    supervisor: asyncio.subprocess.Process, status: int, marker: str, timeout: float
) -> Outcome:
    assert supervisor.stdout is not None and supervisor.stderr is not None
    readers = [
        asyncio.ensure_future(_capped(supervisor.stdout)),
        asyncio.ensure_future(_capped(supervisor.stderr)),
    ]
    closed = asyncio.ensure_future(supervisor.wait())  # (once its pipes are closed too)
    try:
        try:
            if not await _exits(supervisor, timeout + GRACE):  # it hangs: end it
                supervisor.kill()
                await _exits(supervisor, GRACE)
        except asyncio.CancelledError:
            await _cancel(supervisor)
            await _sweep(marker, _messages(status).get("pid"))
            raise
        outcome = Outcome(**_outcome_fields(_messages(status)))
        if outcome.end == "lost":
            await _sweep(marker, outcome.pid)
        # output ends when its last writer does: bounded, for a writer that escaped
        await asyncio.wait([*readers, closed], timeout=GRACE)
        (outcome.stdout, out_dropped), (outcome.stderr, err_dropped) = [
            reader.result() if reader.done() else (b"", 0) for reader in readers
        ]
        outcome.dropped = out_dropped + err_dropped
        return outcome
    finally:
        for task in [*readers, closed]:
            task.cancel()


async def _exits(process: asyncio.subprocess.Process, within: float) -> bool:
    """Whether the process exits within `within` seconds. (`Process.wait()` also waits
    for its pipes to close, which a process it left behind may hold open.)"""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while process.returncode is None:
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(POLL)
    return True


async def _capped(stream: asyncio.StreamReader, cap: int = OUTPUT_CAP) -> tuple[bytes, int]:
    """Everything a stream gives, read in chunks: the first `cap` bytes, and how many
    more were read and dropped."""
    kept = bytearray()
    dropped = 0
    while chunk := await stream.read(65536):
        room = cap - len(kept)
        kept += chunk[:room]
        dropped += max(0, len(chunk) - room)
    return bytes(kept), dropped


async def _cancel(supervisor: asyncio.subprocess.Process) -> None:
    """The call was cancelled: the supervisor ends the program (SIGTERM), or is killed."""
    with contextlib.suppress(ProcessLookupError):
        supervisor.terminate()
    if not await _exits(supervisor, GRACE):
        with contextlib.suppress(ProcessLookupError):
            supervisor.kill()
        await _exits(supervisor, GRACE)


def _messages(status: int) -> dict[str, Any]:
    """The supervisor's JSON lines, merged (it has exited: the pipe holds them all)."""
    os.set_blocking(status, False)
    data = b""
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(status, 65536):
            data += chunk
    merged: dict[str, Any] = {}
    for line in data.decode(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            message = json.loads(line)
            if isinstance(message, dict):
                merged.update(message)
    return merged


def _outcome_fields(messages: dict[str, Any]) -> dict[str, Any]:
    return {
        "end": str(messages.get("end", "lost")),
        "code": messages.get("code"),
        "error": str(messages.get("error", "")),
        "pid": messages.get("pid") if isinstance(messages.get("pid"), int) else None,
        "isolation": {
            name: messages[name]
            for name in ("subreaper", "network_namespace", "landlock")
            if name in messages
        },
    }


async def _sweep(marker: str, group: int | None) -> None:
    """End what a lost supervisor left: the program's group, and every process whose
    environment carries the marker, until none is left (Linux: through /proc)."""
    if group is not None and group > 0:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    needle = f"{MARKER}={marker}".encode()
    give_up = time.monotonic() + GRACE
    while time.monotonic() < give_up:
        marked = [pid for pid in _pids() if needle in _environ(pid)]
        if not marked:
            return
        for pid in marked:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.001)


def _pids() -> list[int]:
    try:
        return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return []


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""  # ended, a zombie, or not ours to read

"""The supervisor of a `run_python` program: starts it confined, and ends every process
it started before the call returns.

Run by `rolegraph.stdlib.sandbox` as a script (`python -I -S supervisor.py FOLDER TIMEOUT
MEMORY PROCESSES STATUS_FD ISOLATE`), in its own session, with a minimal environment. It uses
the standard library only, and this one file: `-I` keeps its folder off `sys.path`.

- It makes itself a *child subreaper* (Linux `PR_SET_CHILD_SUBREAPER`): a process the
  program starts and leaves behind (a double fork, `setsid`, `start_new_session=True`)
  is reparented to the supervisor, not to init, so it can always be found and ended.
- It starts the program (`python -I main.py` in FOLDER) in a new session, with limits:
  address space, CPU time, file size, no core files; in a new network namespace where
  the kernel allows one (`unshare(CLONE_NEWNET)`, or with a user namespace); and under
  Landlock where the kernel has it: files readable only in the Python installation and
  the system folders, writable only in FOLDER; no TCP connect or bind; no signals to
  processes outside the program's own (so it cannot kill its supervisor).
- It waits for the program, for at most TIMEOUT seconds, and counts the program's
  processes as it waits: more than PROCESSES of them ends the program (root ignores
  RLIMIT_NPROC, so the count is the bound that works for every user).
- Then it kills the program's process group and every descendant left (walking /proc),
  again until none is left, and reaps them; then it says how the program ended on the
  status pipe, as JSON lines, and exits. SIGTERM (the call was cancelled) ends it the
  same way.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

POLL = 0.01  # seconds between looks at the program while it runs
FILE_LIMIT = 64 * 2**20  # bytes: the largest file the program may write
END_BOUND = 10.0  # seconds: the most the supervisor spends ending processes

PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000

_stopping = False


def main(argv: list[str]) -> int:
    folder, timeout, memory, processes, status_fd = (
        argv[0],
        float(argv[1]),
        int(argv[2]),
        int(argv[3]),
        int(argv[4]),
    )
    isolate = argv[5] == "isolate"  # else limits only (tests of the other guarantees)
    signal.signal(signal.SIGTERM, _stop)
    reaping = _libc_call("prctl", PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    _say(status_fd, {"subreaper": reaping})
    try:
        program = subprocess.Popen(
            [sys.executable, "-I", "main.py"],
            cwd=folder,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            preexec_fn=lambda: _confine(folder, timeout, memory, status_fd, isolate),
        )
    except (OSError, ValueError) as error:  # (ValueError: no preexec_fn on this system)
        _say(status_fd, {"end": "not started", "error": str(error)})
        return 0
    _say(status_fd, {"pid": program.pid})
    end = _watch(program, timeout, processes)
    _end_all(program.pid)
    _say(status_fd, {"end": end, "code": program.returncode})
    return 0


def _stop(signum: int, frame: Any) -> None:
    global _stopping
    _stopping = True


def _watch(program: subprocess.Popen, timeout: float, processes: int) -> str:
    """How the program ended: "exited", "time", "processes" or "cancelled"."""
    deadline = time.monotonic() + timeout
    while program.poll() is None:
        if _stopping:
            return "cancelled"
        if time.monotonic() >= deadline:
            return "time"
        if len(_descendants()) > processes:
            return "processes"
        time.sleep(POLL)
    return "exited"


def _end_all(group: int) -> None:
    """Kill the program's group, then every descendant left, until none is left."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)  # (one signal to a whole fork bomb: forks race it)
    give_up = time.monotonic() + END_BOUND
    while time.monotonic() < give_up:
        alive = _descendants()
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if not _reap() and not alive:
            return
        time.sleep(0.001)


def _reap() -> bool:
    """Reap the children that ended; whether any child (ended or not) remains."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def _descendants() -> list[int]:
    """The supervisor's descendants, from the parent of every process in /proc (Linux;
    /proc/PID/task/TID/children needs a kernel option that is often off)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue  # it ended meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and fields[0] != b"Z":  # (a zombie needs reaping, not killing)
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    frontier = [os.getpid()]
    while frontier:
        pid = frontier.pop()
        for child in children.get(pid, ()):
            found.append(child)
            frontier.append(child)
    return found


# -- confining the program (runs in the child, between fork and exec) ------------------------


def _confine(folder: str, timeout: float, memory: int, status_fd: int, isolate: bool) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = max(1, int(timeout) + 1)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if not isolate:
        return
    network = _unshare_network()
    landlock = _landlock(folder)
    _say(status_fd, {"network_namespace": network, "landlock": landlock})


def _unshare_network() -> bool:
    """A network namespace of its own: no interface but a loopback that is down, so no
    connection anywhere, 127.0.0.1 included. Root with CAP_SYS_ADMIN may; others may
    with a user namespace, where the kernel and the container's seccomp profile allow."""
    for flags in (CLONE_NEWNET, CLONE_NEWUSER | CLONE_NEWNET):
        if _libc_call("unshare", flags) == 0:
            return True
    return False


# Landlock (Linux 5.13+): unprivileged, inherited by every descendant, and irreversible.
_SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}
_FS_READ = (1 << 0) | (1 << 2) | (1 << 3)  # execute, read file, read dir
_FILE_RIGHTS = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 14) | (1 << 15)  # on a file, not a dir
_READABLE = (
    *("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ld.so.cache"),
    *("/etc/localtime", "/dev/urandom", "/dev/random", "/dev/zero"),
)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 where there is none."""
    numbers = _SYSCALLS.get(platform.machine())
    if numbers is None or not sys.platform.startswith("linux"):
        return 0
    version = _libc_call("syscall", numbers[0], None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    return max(0, version)


def _handled_fs(abi: int) -> int:
    rights = (1 << 13) - 1  # ABI 1: execute .. make symlink
    if abi >= 2:
        rights |= 1 << 13  # refer
    if abi >= 3:
        rights |= 1 << 14  # truncate
    if abi >= 5:
        rights |= 1 << 15  # ioctl on devices
    return rights


def _landlock(folder: str) -> dict[str, bool]:
    """Confine the process: files (read the Python installation and system folders,
    write FOLDER and /dev/null), TCP (none, ABI 4+), signals and abstract sockets
    (only within the program, ABI 6+). Returns what holds."""
    abi = landlock_abi()
    if abi < 1:
        return {"files": False, "tcp": False, "signals": False}
    create, add_rule, restrict = _SYSCALLS[platform.machine()]
    handled = _handled_fs(abi)
    attr = _RulesetAttr(handled, 0b11 if abi >= 4 else 0, 0b11 if abi >= 6 else 0)
    ruleset = _libc_call("syscall", create, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    if ruleset < 0:
        return {"files": False, "tcp": False, "signals": False}
    try:
        roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        for executable in (Path(sys.executable), Path(sys.executable).resolve()):
            roots |= {str(executable.parent), str(executable.parent.parent)}  # (a venv too)
        for path in sorted(roots) + list(_READABLE):
            _allow(add_rule, ruleset, path, _FS_READ & handled)
        _allow(add_rule, ruleset, folder, handled)
        _allow(add_rule, ruleset, "/dev/null", _FILE_RIGHTS & handled)
        if _libc_call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return {"files": False, "tcp": False, "signals": False}
        if _libc_call("syscall", restrict, ruleset, 0) != 0:
            return {"files": False, "tcp": False, "signals": False}
    finally:
        os.close(ruleset)
    return {"files": True, "tcp": abi >= 4, "signals": abi >= 6}


def _allow(add_rule: int, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # not on this system
    try:
        if not Path(path).is_dir():
            rights &= _FILE_RIGHTS
        rule = _PathBeneathAttr(rights, fd)
        _libc_call("syscall", add_rule, ruleset, 1, ctypes.byref(rule), 0)  # PATH_BENEATH
    finally:
        os.close(fd)


def _libc_call(name: str, *args: Any) -> int:
    """A libc function's result; -1 where libc or the function is missing."""
    try:
        function = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return -1
    return int(function(*args))


def _say(fd: int, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):  # (the caller stopped listening)
        os.write(fd, (json.dumps(message) + "\n").encode())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

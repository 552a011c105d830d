"""`run_python` (std.toolbox): async, confined, and it never leaves a process behind.

The process guarantees are tested with and without isolation (`isolate=False`: no
network namespace, no Landlock), since CI kernels may lack either. Isolation itself is
tested where the run says it held, and skipped, saying why, where it did not.
"""

import asyncio
import contextlib
import inspect
import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from rolegraph.stdlib.sandbox import run_confined
from rolegraph.stdlib.tools import CODE_LIMIT, OUTPUT_LIMIT, run_python

MEMORY = 512 * 2**20
HANG = 60.0  # seconds: a time limit no test should reach, only a bound on hanging


def python(code: str, **limits) -> str:
    return asyncio.run(run_python(code, **limits))


def confined(code: str, timeout: float = HANG, isolate: bool = True):
    return asyncio.run(run_confined(code, timeout, MEMORY, isolate=isolate))


def sleeper(tag: str) -> str:
    """A command line (Python source) for a process that sleeps, named by `tag`."""
    return f"[sys.executable, '-c', 'import time; time.sleep(600)  # {tag}']"


def running(tag: str) -> int:
    """How many processes on this machine carry `tag` in their command line."""
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):  # (it ended meanwhile)
                count += tag.encode() in Path(f"/proc/{entry}/cmdline").read_bytes()
    return count


@pytest.fixture
def tag() -> str:
    return f"rolegraph-test-{uuid.uuid4().hex}"


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
both = pytest.mark.parametrize("isolate", [True, False], ids=["isolated", "limits-only"])


def test_run_python_is_a_coroutine_function():
    assert inspect.iscoroutinefunction(run_python)


def test_run_python_returns_what_the_program_printed():
    assert python("print(6 * 7)") == "42\n"


def test_a_failing_program_returns_its_traceback_and_exit_status():
    reply = python("1 / 0")
    assert "ZeroDivisionError" in reply and reply.endswith("[exit status 1]")


def test_a_runaway_program_is_stopped_at_the_time_limit():
    assert python("while True: pass", timeout=1).endswith(
        "[stopped: the time limit of 1 s was reached]"
    )


def test_the_memory_limit_holds():
    assert "memory limit" in python("x = bytearray(2 * 1024 ** 3)", memory=256 * 2**20)


def test_the_program_runs_in_an_empty_temporary_folder():
    # (the folder's random name is shown as `.`, so that runs print the same)
    code = "import os; print(os.getcwd() == os.environ['HOME']); print(os.listdir())"
    assert python(code).split() == ["True", "['main.py']"]


def test_long_output_is_cut_to_the_reply_limit():
    assert len(python("print('a' * 100_000)")) <= OUTPUT_LIMIT


@linux_only
@both
def test_a_detached_child_does_not_outlive_the_time_limit(tag, isolate):
    code = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen({sleeper(tag)}, start_new_session=True)\n"
        "time.sleep(600)"
    )
    outcome = confined(code, timeout=2, isolate=isolate)
    assert outcome.end == "time"
    assert running(tag) == 0


@linux_only
@both
def test_a_forked_child_in_its_own_session_does_not_outlive_the_time_limit(tag, isolate):
    code = (
        "import os, sys, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        f"    os.execv(sys.executable, {sleeper(tag)})\n"
        "time.sleep(600)"
    )
    outcome = confined(code, timeout=2, isolate=isolate)
    assert outcome.end == "time"
    assert running(tag) == 0


@linux_only
@both
def test_processes_the_program_starts_do_not_outlive_the_call(tag, isolate):
    code = (
        "import subprocess, sys\n"
        f"for _ in range(40): subprocess.Popen({sleeper(tag)}, start_new_session=True)\n"
        "print('started 40')"
    )
    outcome = confined(code, isolate=isolate)
    assert (outcome.end, outcome.stdout) == ("exited", b"started 40\n")
    assert running(tag) == 0


@linux_only
@both
def test_a_double_forked_daemon_does_not_outlive_the_call(tag, isolate):
    code = (
        "import os, sys\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv(sys.executable, {sleeper(tag)})\n"
        "    os._exit(0)\n"
        "print('parent done')"
    )
    confined(code, isolate=isolate)
    assert running(tag) == 0


@linux_only
@both
def test_a_program_with_too_many_processes_is_stopped(isolate):
    code = (
        "import os, time\n"
        "for _ in range(200):\n"
        "    if os.fork() == 0:\n"
        "        break\n"
        "time.sleep(600)"
    )
    outcome = confined(code, isolate=isolate)
    assert outcome.end == "processes"
    assert "more than 64 processes" in python(code, timeout=HANG)


@linux_only
@both
def test_a_fork_bomb_is_stopped_and_leaves_nothing(isolate):
    marker = f"bomb-{uuid.uuid4().hex}"
    code = (
        f"# {marker}\n"
        "import os\n"
        "while True:\n"
        "    try:\n"
        "        os.fork()\n"
        "    except OSError:\n"
        "        pass"
    )
    outcome = confined(code, isolate=isolate)
    assert outcome.end in ("processes", "time")
    assert running(marker) == 0  # (forks keep their parent's command line: main.py's)


@linux_only
def test_a_program_that_kills_its_supervisor_leaves_nothing(tag):
    code = (
        "import os, subprocess, sys, time\n"
        f"subprocess.Popen({sleeper(tag)}, start_new_session=True)\n"
        "os.kill(os.getppid(), 9)\n"
        "time.sleep(600)"
    )
    outcome = confined(code, isolate=False)  # (with Landlock, the kill is refused)
    assert outcome.end == "lost"
    assert running(tag) == 0


@linux_only
def test_cancelling_the_call_ends_the_program_and_its_children(tag):
    code = (
        f"import subprocess, sys, time\nsubprocess.Popen({sleeper(tag)}, start_new_session=True)\n"
        "time.sleep(600)"
    )

    async def cancel_once_started() -> None:
        call = asyncio.ensure_future(run_python(code, timeout=HANG))
        for _ in range(int(HANG / 0.01)):
            if running(tag) or call.done():
                break
            await asyncio.sleep(0.01)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    asyncio.run(cancel_once_started())
    assert running(tag) == 0


@linux_only
def test_output_is_capped_while_it_streams():
    """600 MB printed: this process keeps 64 KiB of it (its peak memory, in a fresh
    interpreter, stays far below what holding the output would take). The peak is
    VmHWM: getrusage's maxrss would include the peak of the process that forked it."""
    probe = (
        "import asyncio, json, re\n"
        "from rolegraph.stdlib.tools import run_python\n"
        "code = 'import sys\\nchunk = \"x\" * 2**20\\n'\n"
        "code += 'for _ in range(600): sys.stdout.write(chunk)'\n"
        "reply = asyncio.run(run_python(code, timeout=120))\n"
        "status = open('/proc/self/status').read()\n"
        "peak = int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)) * 1024\n"
        "print(json.dumps([reply[-80:], peak]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    tail, peak = json.loads(done.stdout)
    assert "more bytes of output were dropped" in tail
    assert peak < 200 * 2**20


def test_the_program_does_not_inherit_the_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-programs")
    reply = python("import os; print(sorted(os.environ)); print(os.environ.get('OPENAI_API_KEY'))")
    assert "sk-not-for-programs" not in reply and "OPENAI_API_KEY" not in reply


def test_output_that_is_not_utf8_comes_back_as_text():
    assert python("import sys; sys.stdout.buffer.write(b'\\xff\\xfe ok')") == "\ufffd\ufffd ok"


def test_a_nul_byte_in_the_code_is_refused_with_a_message():
    assert python("print(1)\0") == "[not run: the program contains a NUL byte]"


def test_code_over_128_kib_is_refused_with_a_message():
    reply = python("#" * (CODE_LIMIT + 1))
    assert reply == "[not run: the program is 131,073 bytes; the limit is 131,072 bytes]"


def test_code_that_cannot_be_encoded_is_run_with_replacements():
    assert "SyntaxError" not in python("print('\\ud800' == '\\ud800')")


@linux_only
def test_the_program_cannot_read_files_outside_its_folder(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the key")
    code = f"print(open({str(secret)!r}).read())"
    outcome = confined(code)
    if not outcome.isolation.get("landlock", {}).get("files"):
        pytest.skip(f"Landlock does not hold on this kernel: {outcome.isolation}")
    assert b"PermissionError" in outcome.stderr and b"the key" not in outcome.stdout


@linux_only
def test_the_program_cannot_read_this_process_environment():
    code = "import os; print(open(f'/proc/{os.getppid()}/environ').read())"
    outcome = confined(code)
    if not outcome.isolation.get("landlock", {}).get("files"):
        pytest.skip(f"Landlock does not hold on this kernel: {outcome.isolation}")
    assert b"PermissionError" in outcome.stderr and outcome.stdout == b""


@linux_only
def test_the_program_cannot_reach_the_loopback():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        code = (
            "import socket\n"
            f"socket.create_connection(('127.0.0.1', {port}), timeout=5)\n"
            "print('in')"
        )
        outcome = confined(code)
    landlock = outcome.isolation.get("landlock", {})
    held = outcome.isolation.get("network_namespace") or landlock.get("tcp")
    if not held:
        pytest.skip(f"neither a network namespace nor Landlock holds here: {outcome.isolation}")
    assert outcome.stdout == b"" and outcome.code == 1

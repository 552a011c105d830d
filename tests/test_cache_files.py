"""Cache files are written whole or not at all (compiler/cache_files.py)."""

from __future__ import annotations

import os

import pytest

from rolegraph.compiler.cache_files import write_atomically


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

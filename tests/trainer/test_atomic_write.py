"""write_atomic: the bytes reach the disk before the rename, and only dead writers' temporary files are swept."""

import fcntl
import os

import pytest

from edge_predict import atomicfile as atomic
from edge_predict.atomicfile import write_atomic


def test_the_temporary_file_is_fsynced_before_the_rename_and_the_directory_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.fstat(fd).st_ino))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.stat(src).st_ino))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_atomic(tmp_path / "m.onnx", b"model bytes")
    [rename] = [i for i, (what, _) in enumerate(events) if what == "replace"]
    temporary = events[rename][1]
    assert ("fsync", temporary) in events[:rename]
    assert ("fsync", os.stat(tmp_path).st_ino) in events[rename + 1 :]
    assert (tmp_path / "m.onnx").read_bytes() == b"model bytes"


@pytest.fixture
def locked(tmp_path):
    """Open files holding flocks, as a live writer does on its temporary file; closed after the test."""
    handles = []

    def lock(path):
        handle = open(path, "rb")
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handles.append(handle)

    yield lock
    for handle in handles:
        handle.close()


def test_only_unlocked_temporaries_of_the_same_target_are_removed(tmp_path, locked):
    # Process IDs mean nothing here: a live writer may show a PID that is gone (another PID namespace), and
    # a dead writer's PID may have been reused by a live process (this one). The lock tells them apart.
    live = tmp_path / ".m.onnx.999999999.live.tmp"
    dead = tmp_path / f".m.onnx.{os.getpid()}.dead.tmp"
    plain = tmp_path / ".m.onnx.x1y2z3.tmp"  # today's names carry no PID
    other = tmp_path / ".other.onnx.x1y2z3.tmp"  # another target's
    for path in (live, dead, plain, other):
        path.write_bytes(b"partial")
    locked(live)
    write_atomic(tmp_path / "m.onnx", b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m.onnx", live.name, other.name])


def test_a_symlink_named_like_a_temporary_is_left_alone(tmp_path):
    kept = tmp_path / "kept"
    kept.write_bytes(b"someone's file")
    link = tmp_path / ".m.onnx.abc.tmp"
    link.symlink_to(kept)
    write_atomic(tmp_path / "m.onnx", b"new")
    assert link.is_symlink() and kept.read_bytes() == b"someone's file"


def test_a_temporary_removed_between_creating_and_locking_it_is_made_again(tmp_path, monkeypatch):
    real_flock, swept = fcntl.flock, []

    def flock(fd, operation):
        if not swept:  # a sweeper got there first: it took the lock and removed the file
            swept.extend(tmp_path.glob(".m.onnx.*.tmp"))
            swept[0].unlink()
        real_flock(fd, operation)

    monkeypatch.setattr(atomic.fcntl, "flock", flock)
    write_atomic(tmp_path / "m.onnx", b"new")
    assert len(swept) == 1 and (tmp_path / "m.onnx").read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_the_written_file_is_readable_by_others(tmp_path):
    write_atomic(tmp_path / "m.onnx", b"new")
    assert (tmp_path / "m.onnx").stat().st_mode & 0o777 == 0o644

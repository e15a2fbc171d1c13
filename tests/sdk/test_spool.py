"""The spool keeps batches on disk oldest first, within its byte bound, dropping the oldest."""

from __future__ import annotations

import os

from mlpilot.sdk.spool import Spool


def test_batches_come_back_oldest_first_with_their_bodies(tmp_path):
    spool = Spool(tmp_path / "spool", max_bytes=10_000)
    assert spool.oldest() is None  # the folder is created on first use only
    assert not (tmp_path / "spool").exists()
    for n in range(5):
        assert spool.put(f"batch {n}".encode(), records=n + 1) == 0
    assert spool.pending() == (5, 15)
    seen = []
    while (found := spool.oldest()) is not None:
        spooled, body = found
        seen.append((body.decode(), spooled.records))
        spool.remove(spooled)
    assert seen == [(f"batch {n}", n + 1) for n in range(5)]
    assert spool.pending() == (0, 0)


def test_over_the_bound_the_oldest_batches_go_and_are_counted(tmp_path):
    spool = Spool(tmp_path, max_bytes=250)
    lost = [spool.put(bytes([n]) * 100, records=10 + n) for n in range(5)]
    # each batch is 100 bytes: two fit; every put past the second drops the oldest one
    assert lost == [0, 0, 10, 11, 12]
    files = spool.files()
    assert [f.records for f in files] == [13, 14]
    assert sum(f.size for f in files) <= 250
    assert [spool.oldest()[1][0]] == [3]


def test_a_batch_bigger_than_the_bound_is_dropped_itself(tmp_path):
    spool = Spool(tmp_path, max_bytes=50)
    assert spool.put(b"x" * 40, records=4) == 0
    assert spool.put(b"y" * 80, records=8) == 12  # the old one and itself
    assert spool.pending() == (0, 0)


def test_temporary_and_foreign_files_are_ignored(tmp_path):
    spool = Spool(tmp_path, max_bytes=10_000)
    spool.put(b"real", records=1)
    (tmp_path / ".00000000000000000001-1-000000000-5.tmp").write_bytes(b"half")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "0-1-2-x.batch.gz").write_bytes(b"bad name")
    assert spool.pending() == (1, 1)


def test_a_file_sent_by_another_process_is_skipped(tmp_path):
    spool = Spool(tmp_path, max_bytes=10_000)
    spool.put(b"first", records=1)
    spool.put(b"second", records=2)
    other = Spool(tmp_path, max_bytes=10_000)  # another process sharing the folder
    first, _ = other.oldest()
    os.unlink(first.path)
    _, body = spool.oldest()
    assert body == b"second"
    spool.remove(first)  # already gone: no error

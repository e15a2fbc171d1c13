"""At exit the tracker flushes within its timeout and spools the rest; a forked child gets its
own sender. Each case runs a real Python process."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap

from tests.sdk.conftest import free_port


def run(code: str, tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_records_logged_just_before_exit_are_sent(receiver, tmp_path):
    run(
        f"""
        from mlpilot import Tracker
        tracker = Tracker({receiver.uri!r}, "t", "churn", flush_interval=60,
                          spool_dir={str(tmp_path / "spool")!r})
        for n in range(300):
            tracker.log_prediction(0.5, id=f"p-{{n}}")
        """,
        tmp_path,
    )
    assert sorted(receiver.stored) == sorted(f"p-{n}" for n in range(300))


def test_at_exit_with_the_server_down_records_are_spooled(tmp_path):
    spool = tmp_path / "spool"
    run(
        f"""
        from mlpilot import Tracker
        tracker = Tracker("http://127.0.0.1:{free_port()}", "t", "churn", close_timeout=1,
                          spool_dir={str(spool)!r}, backoff_base=0.01)
        for n in range(120):
            tracker.log_outcome(f"e-{{n}}", n % 2, id=f"o-{{n}}")
        """,
        tmp_path,
    )
    files = sorted(spool.glob("*.batch.gz"))
    ids = [r["id"] for f in files for r in json.loads(gzip.decompress(f.read_bytes()))["records"]]
    assert ids == [f"o-{n}" for n in range(120)]


def test_a_forked_child_sends_through_its_own_sender(receiver, tmp_path):
    run(
        f"""
        import os
        from mlpilot import Tracker
        tracker = Tracker({receiver.uri!r}, "t", "churn", spool_dir={str(tmp_path / "s")!r})
        tracker.log_outcome("parent-before", 1, id="parent-before")
        tracker.flush(30)
        pid = os.fork()
        if pid == 0:
            tracker.log_outcome("child", 1, id="child")
            tracker.close(timeout=30)
            os._exit(0 if tracker.stats()["sent"] == 2 else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        tracker.log_outcome("parent-after", 0, id="parent-after")
        """,
        tmp_path,
    )
    assert sorted(receiver.stored) == ["child", "parent-after", "parent-before"]

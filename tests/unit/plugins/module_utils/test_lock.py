import os
import subprocess
import sys
import time

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _lock

OWNER = {"host": "ctl", "pid": 1, "run_id": "ctl:1:100", "user": "alice", "version": "2.0"}
OTHER = {"host": "ctl2", "pid": 2, "run_id": "ctl2:2:200", "user": "bob", "version": "3.0"}


def test_acquire_is_atomic_reentrant_and_released_only_by_its_run(tmp_path):
    base = str(tmp_path / "run")
    assert _lock.acquire("demo", OWNER, base=base) == []
    assert oct(os.stat(base).st_mode & 0o777) == oct(0o700)
    assert _lock.read_owner("demo", base)["user"] == "alice"
    assert _lock.acquire("demo", OWNER, base=base) == []  # the same run again
    with pytest.raises(_lock.LockError) as e:
        _lock.acquire("demo", OTHER, timeout=0.3, base=base, sleep=0.1)
    assert "alice@ctl" in str(e.value) and e.value.owner["run_id"] == OWNER["run_id"]
    assert not _lock.release("demo", OTHER["run_id"], base=base)
    assert _lock.release("demo", OWNER["run_id"], base=base)
    assert _lock.read_owner("demo", base) is None


def test_waits_for_the_holder(tmp_path):
    base = str(tmp_path / "run")
    _lock.acquire("demo", OWNER, base=base)
    code = "import time, shutil; time.sleep(0.5); shutil.rmtree(%r)" % os.path.join(base, "demo.lock")
    proc = subprocess.Popen([sys.executable, "-c", code])
    start = time.time()
    _lock.acquire("demo", OTHER, timeout=5, base=base, sleep=0.05)
    proc.wait()
    assert 0.4 < time.time() - start < 5
    assert _lock.read_owner("demo", base)["run_id"] == OTHER["run_id"]


def test_expired_lease_and_explicit_break_warn(tmp_path):
    base = str(tmp_path / "run")
    _lock.acquire("demo", OWNER, base=base)
    warnings = _lock.acquire("demo", OTHER, lease=0, base=base)
    assert len(warnings) == 1 and "lease of 0 s expired" in warnings[0]
    warnings = _lock.acquire("demo", OWNER, break_lock=True, base=base)
    assert len(warnings) == 1 and "break requested" in warnings[0] and "bob@ctl2" in warnings[0]


def test_step_lock_excludes_a_second_holder(tmp_path):
    base = str(tmp_path / "run")
    code = ("import sys, time; sys.path[:0] = %r\n"
            "from ansible_collections.containerless.zipapp.plugins.module_utils import _lock\n"
            "with _lock.StepLock('demo', base=%r):\n    print('held', flush=True); time.sleep(1.0)\n") % (sys.path, base)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    with pytest.raises(_lock.LockError, match="still running"):
        with _lock.StepLock("demo", timeout=0.2, base=base):
            pass
    start = time.time()
    with _lock.StepLock("demo", timeout=5, base=base):
        waited = time.time() - start
    proc.wait()
    assert waited > 0.3


def test_check_held_names_the_current_owner(tmp_path):
    base = str(tmp_path / "run")
    assert _lock.check_held("demo", None, base=base) is None
    assert "now: nobody" in _lock.check_held("demo", OWNER["run_id"], base=base)
    _lock.acquire("demo", OTHER, base=base)
    assert _lock.check_held("demo", OTHER["run_id"], base=base) is None
    assert "bob@ctl2" in _lock.check_held("demo", OWNER["run_id"], base=base)

# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy lock of one app on one host.

This is a private module_utils file: its interface may change without notice.

Two layers:

* the **run lock**, ``/run/zipapp/<name>.lock/`` made with an atomic ``mkdir`` and an ``owner.json``
  inside (controller host, pid, run id, user, time, version).  It is held from the first step that
  changes the host until the deploy ends, so two runs never interleave their steps.  A lock whose
  lease expired is broken with a warning; one whose owner process is gone is broken by the action
  plugin on the owner's controller (only it can see that process); ``break_lock`` breaks it on request.
* the **step lock**, an ``flock`` on ``/run/zipapp/<name>.step`` held by every module that changes the
  host while it runs.  When ``ansible-playbook`` is killed, a step already running on the host goes on
  to its end; a new run that broke the run lock still waits here until that step is over.

Both live in /run: a reboot ends every deploy, and taking the lock changes nothing under the app.
"""

import errno
import fcntl
import json
import os
import shutil
import time

LOCK_DIR = "/run/zipapp"


class LockError(Exception):
    """The lock is held by someone else (``owner``) and could not be taken in time."""

    def __init__(self, msg, owner=None):
        super().__init__(msg)
        self.owner = owner


def _paths(name, base=LOCK_DIR):
    return os.path.join(base, name + ".lock"), os.path.join(base, name + ".step")


def _ensure_base(base):
    if not os.path.isdir(base):
        try:
            os.mkdir(base, 0o700)
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise
    os.chmod(base, 0o700)


def read_owner(name, base=LOCK_DIR):
    lock = _paths(name, base)[0]
    try:
        with open(os.path.join(lock, "owner.json")) as f:
            return json.load(f)
    except (IOError, OSError, ValueError):
        if os.path.isdir(lock):
            return {"unknown": True}  # mkdir done, owner.json not written yet (or torn)
        return None


def describe(owner):
    if not owner:
        return "nobody"
    if owner.get("unknown"):
        return "an owner that did not record itself"
    return "%s@%s (pid %s, run %s, deploying %s since %s)" % (
        owner.get("user"), owner.get("host"), owner.get("pid"), owner.get("run_id"), owner.get("version"),
        owner.get("since"))


def acquire(name, owner, timeout=0, lease=3600, break_lock=False, base=LOCK_DIR, sleep=0.5):
    """Take the run lock for ``owner`` (a dict with host, pid, run_id, user, version).

    Returns a list of warnings (a broken lock).  Re-entrant for the same run id.  Raises LockError
    with the current owner when it cannot be taken within ``timeout`` seconds.
    """
    _ensure_base(base)
    lock = _paths(name, base)[0]
    warnings = []
    deadline = time.time() + timeout
    while True:
        current = read_owner(name, base)
        if current and current.get("run_id") == owner.get("run_id"):
            return warnings
        if current and break_lock:
            warnings.append("broke the deploy lock of %s held by %s (break requested)" % (name, describe(current)))
            shutil.rmtree(lock, ignore_errors=True)
            break_lock = False
        elif current and not current.get("unknown") and time.time() > current.get("since_epoch", 0) + lease:
            warnings.append("broke the deploy lock of %s held by %s: its lease of %d s expired"
                            % (name, describe(current), lease))
            shutil.rmtree(lock, ignore_errors=True)
        try:
            os.mkdir(lock, 0o700)
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise
            if time.time() >= deadline:
                raise LockError("the deploy of %s is locked by %s" % (name, describe(read_owner(name, base))),
                                read_owner(name, base))
            time.sleep(sleep)
            continue
        data = dict(owner, since=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), since_epoch=int(time.time()))
        tmp = os.path.join(lock, ".owner.json")
        with open(tmp, "w") as f:
            json.dump(data, f, sort_keys=True)
        os.rename(tmp, os.path.join(lock, "owner.json"))
        return warnings


def take(name, params, base=LOCK_DIR):
    """Take the run lock for ``params["lock_owner"]`` (the lock OPTIONS of a module); returns
    ``(run_id, warnings)``.  A lock whose owner the controller found dead (``lock_dead_owner``) is broken.
    Raises LockError, with a message that says how to wait or break it."""
    owner = dict(params["lock_owner"] or {})
    if not owner.get("run_id"):
        raise LockError("lock_owner.run_id is required to take the deploy lock (the action plugin sets it)")
    dead = params.get("lock_dead_owner")
    held = read_owner(name, base)
    brk = params.get("lock_break") or bool(dead and held and held.get("run_id") == dead)
    try:
        warnings = acquire(name, owner, timeout=params.get("lock_timeout") or 0,
                           lease=params.get("lock_lease") or 3600, break_lock=brk, base=base)
    except LockError as e:
        raise LockError("%s; set zipapp_lock_timeout to wait, or zipapp_lock_break: true to break it "
                        "(nothing was changed)" % e, e.owner)
    if dead and brk:
        warnings = ["the run that held the deploy lock of %s is gone from this controller: %s"
                    % (name, "; ".join(warnings))]
    return owner["run_id"], warnings


def check_held(name, run_id, base=LOCK_DIR):
    """None when ``run_id`` holds the run lock (or no run id is given), else why it does not."""
    if not run_id:
        return None
    held = read_owner(name, base)
    if held and held.get("run_id") == run_id:
        return None
    return "the deploy lock of %s is no longer held by this run (now: %s)" % (name, describe(held))


def release(name, run_id, base=LOCK_DIR):
    """Give the run lock back if ``run_id`` holds it; True when it was released."""
    lock = _paths(name, base)[0]
    current = read_owner(name, base)
    if current and current.get("run_id") == run_id:
        shutil.rmtree(lock, ignore_errors=True)
        return True
    return False


class StepLock:
    """``with StepLock(name, timeout):`` -- the flock every changing module holds while it runs."""

    def __init__(self, name, timeout=600, base=LOCK_DIR):
        self.name = name
        self.timeout = timeout
        self.base = base
        self.fd = None

    def __enter__(self):
        _ensure_base(self.base)
        step = _paths(self.name, self.base)[1]
        self.fd = os.open(step, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.time() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except (IOError, OSError) as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.time() >= deadline:
                os.close(self.fd)
                self.fd = None
                raise LockError("a step of an earlier deploy of %s is still running on this host (waited %d s)"
                                % (self.name, self.timeout))
            time.sleep(0.2)

    def __exit__(self, *exc):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
        return False

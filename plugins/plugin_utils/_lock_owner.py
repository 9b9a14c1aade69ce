# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who holds a deploy lock, seen from the controller.

This is a private plugin_utils file: its interface may change without notice.

The run id names one ``ansible-playbook`` run: the controller's host name, the pid of the
ansible-playbook process (the parent of the worker that runs an action) and that process's start
time, so a recycled pid is never mistaken for the old run.  Only the controller that took a lock can
tell whether its owner process is gone.
"""

import getpass
import os
import socket

from ansible.plugins.action import ActionBase


def _start_time(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (IOError, OSError, IndexError):
        return None


def current_owner(version=None):
    pid = os.getppid()
    host = socket.gethostname()
    return {
        "host": host,
        "pid": pid,
        "run_id": "%s:%d:%s" % (host, pid, _start_time(pid)),
        "user": getpass.getuser(),
        "version": version,
    }


def is_dead(owner):
    """True when ``owner`` ran on this controller and its process is gone (or its pid was reused)."""
    if not owner or owner.get("host") != socket.gethostname():
        return False
    try:
        pid = int(owner.get("pid"))
    except (TypeError, ValueError):
        return False
    if not os.path.exists("/proc/%d" % pid):
        return True
    started = owner.get("run_id", "").rsplit(":", 1)[-1]
    return _start_time(pid) != started


def run_locked(execute, args, version=None):
    """Run a module that takes the deploy lock: ``execute(args)`` with this run as the lock's owner,
    and once more, breaking the lock, when its holder is a run of this controller that is gone."""
    args = dict(args)
    args["lock_owner"] = current_owner(version)
    outcome = execute(args)
    if outcome.get("locked") and is_dead(outcome.get("lock_held_by")):
        args["lock_dead_owner"] = outcome["lock_held_by"].get("run_id")
        outcome = execute(args)
    return outcome


class LockingAction(ActionBase):
    """Runs ``MODULE`` and, when ``takes_lock(args)``, with this run as the deploy lock's owner."""

    MODULE = None

    def takes_lock(self, args):
        return True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)

        def execute(module_args):
            return self._execute_module(module_name=self.MODULE, module_args=module_args, task_vars=task_vars)

        result.update(run_locked(execute, args, args.get("version")) if self.takes_lock(args) else execute(args))
        return result

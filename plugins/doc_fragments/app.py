# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # Which app on the host: every module that works on an app's release tree.
    DOCUMENTATION = r"""
options:
  name:
    description: Name of the app (its directory under O(root), its units and its dynamic user).
    type: str
    required: true
  root:
    description: Root directory of the apps; the app lives in C(<root>/<name>/).
    type: path
    default: /opt/zipapp
"""

    # A step of a deploy that runs under the app's deploy lock.
    LOCK = r"""
options:
  lock_run_id:
    description:
      - The run that holds the app's deploy lock (a step of a deploy); the module refuses to change anything
        for another one.
    type: str
"""

    # A module that takes the app's deploy lock (module_utils/_common.py LOCK_TAKE), with LOCK: without
    # lock_run_id it takes the lock for this run.
    LOCK_TAKE = r"""
options:
  lock_owner:
    description: Who takes the lock (controller host, pid, run id, user, version); set by the action plugin.
    type: dict
  lock_dead_owner:
    description: Run id of a lock owner the controller found dead; that lock is broken (set by the action plugin).
    type: str
  lock_timeout:
    description: Seconds to wait for a deploy lock held by another run.
    type: int
    default: 0
  lock_lease:
    description: Seconds after which a lock is considered abandoned and broken with a warning.
    type: int
    default: 3600
  lock_break:
    description: Break a lock held by another run (with a warning).
    type: bool
    default: false
"""

    # The health checks of the canary and of a new instance.
    HEALTH = r"""
options:
  timeout:
    description: Seconds per request.
    type: float
    default: 5
  retries:
    description: Requests after the first one.
    type: int
    default: 30
  delay:
    description: Seconds between requests.
    type: float
    default: 1
  settle:
    description: Seconds the instance must stay up when there is no health path.
    type: float
    default: 3
"""

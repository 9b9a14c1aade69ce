#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: zipapp_lock
short_description: Take or give back an app's deploy lock, and record the outcome in its audit log
version_added: 0.1.0
description:
  - V(acquired) takes the app's deploy lock on the host (an atomic C(mkdir) of C(/run/zipapp/<name>.lock) with
    the owner inside (controller host, pid, run id, user, time, version)) for this C(ansible-playbook) run,
    waiting up to O(timeout) seconds. A lock whose lease expired, or whose owner process on this controller
    is gone, is broken with a warning; O(break_lock=true) breaks it on request.
  - V(released) gives the lock back (only the run that holds it can) and, with O(audit), appends one JSON
    line to C(<root>/<name>/audit.log) with the time, controller user, action, version, sha256, result and message.
    A successful deploy of a version that was marked failed clears that mark.
  - The deploy role takes the lock inside M(containerless.zipapp.zipapp_release); this module serves the
    rollback entry point and the end of every deploy.
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
  - containerless.zipapp.app
attributes:
  check_mode:
    support: full
    details: In check mode the lock is neither taken nor released and nothing is logged.
  diff_mode:
    support: none
  platform:
    platforms: posix
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  state:
    description: Take (V(acquired)) or give back (V(released)) the lock.
    type: str
    choices: [acquired, released]
    default: acquired
  version:
    description: The version being deployed or rolled back to (recorded with the lock).
    type: str
  run_id:
    description: With V(released), the run that holds the lock (RV(run_id) of V(acquired)).
    type: str
  timeout:
    description: Seconds to wait for a lock held by another run.
    type: int
    default: 0
  lease:
    description: Seconds after which a lock is considered abandoned.
    type: int
    default: 3600
  break_lock:
    description: Break a lock held by another run (with a warning).
    type: bool
    default: false
  audit:
    description:
      - With V(released), the outcome to append to the audit log, for example an C(action) (deploy or
        rollback), the C(version), its C(sha256) and the C(result) (ok, failed or rolled_back).
    type: dict
  owner:
    description: Who takes the lock; set by the action plugin.
    type: dict
  dead_owner:
    description: Run id of an owner the controller found dead; set by the action plugin.
    type: str
"""

EXAMPLES = r"""
- name: Take the deploy lock of demoapp
  containerless.zipapp.zipapp_lock:
    name: demoapp
    version: "1.4.1"
    timeout: 60
  register: lock

- name: Give it back and record the rollback
  containerless.zipapp.zipapp_lock:
    name: demoapp
    state: released
    run_id: "{{ lock.run_id }}"
    audit:
      action: rollback
      version: "1.4.1"
      result: ok
"""

RETURN = r"""
run_id:
  description: The run that holds the lock (after V(acquired)).
  returned: when acquired
  type: str
locked:
  description: True when another run holds the lock.
  returned: when the lock could not be taken
  type: bool
lock_held_by:
  description: The owner of the lock that kept this run out.
  returned: when the lock could not be taken
  type: dict
audited:
  description: Whether a line was appended to the audit log.
  returned: when released
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _lock
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils._validate import check_name


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            root=dict(type="path", default="/opt/zipapp"),
            state=dict(type="str", choices=["acquired", "released"], default="acquired"),
            version=dict(type="str"),
            run_id=dict(type="str"),
            timeout=dict(type="int", default=0),
            lease=dict(type="int", default=3600),
            break_lock=dict(type="bool", default=False),
            audit=dict(type="dict"),
            owner=dict(type="dict"),
            dead_owner=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    errors = check_name(p["name"], "name")
    if errors:
        module.fail_json(msg="; ".join(errors))
    if module.check_mode:
        module.exit_json(changed=False, run_id=p["run_id"], audited=False)
    name = p["name"]
    if p["state"] == "acquired":
        owner = dict(p["owner"] or {}, version=p["version"])
        if not owner.get("run_id"):
            module.fail_json(msg="owner.run_id is required to take the lock (the action plugin sets it)")
        held = _lock.read_owner(name)
        brk = p["break_lock"] or bool(p["dead_owner"] and held and held.get("run_id") == p["dead_owner"])
        try:
            with _lock.StepLock(name, timeout=max(p["timeout"], 600)):
                warnings = _lock.acquire(name, owner, timeout=p["timeout"], lease=p["lease"], break_lock=brk)
        except _lock.LockError as e:
            module.fail_json(msg="%s; wait with timeout or break it with break_lock: true" % e, locked=True,
                             lock_held_by=e.owner)
        for w in warnings:
            module.warn(w)
        module.exit_json(changed=True, run_id=owner["run_id"])
    # released
    if not p["run_id"]:
        module.fail_json(msg="run_id is required to release the lock")
    audited = False
    with _lock.StepLock(name):
        if p["audit"]:
            entry = dict(p["audit"], run_id=p["run_id"])
            held = _lock.read_owner(name)
            if held and held.get("run_id") == p["run_id"]:
                entry.setdefault("user", held.get("user"))
                entry.setdefault("controller", held.get("host"))
            layout = rel.Layout(p["root"], name)
            audited = rel.append_audit(layout, entry)
            if entry.get("action") == "deploy" and entry.get("result") == "ok" and entry.get("version"):
                rel.clear_failed(layout, entry["version"])  # it just proved itself live and healthy
        released = _lock.release(name, p["run_id"])
    module.exit_json(changed=released or audited, released=released, audited=audited)


if __name__ == "__main__":
    main()

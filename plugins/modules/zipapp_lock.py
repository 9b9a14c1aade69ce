#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: zipapp_lock
short_description: Take or give back an app's deploy lock, and record the outcome in its audit log
version_added: 0.1.0
description:
  - V(acquired) takes the app's deploy lock on the host (an atomic C(mkdir) of C(/run/zipapp/<name>.lock) with
    the owner inside (controller host, pid, run id, user, time, version)) for this C(ansible-playbook) run,
    waiting up to O(lock_timeout) seconds. A lock whose lease expired, or whose owner process on this controller
    is gone, is broken with a warning; O(lock_break=true) breaks it on request.
  - V(released) gives the lock back (only the run that holds it can) and, with O(audit), appends one JSON
    line to C(<root>/<name>/audit.log) with the time, controller user, action, version, sha256, result and message.
    A successful deploy of a version that was marked failed clears that mark.
  - The deploy role takes the lock inside M(containerless.zipapp.zipapp_release) and
    M(containerless.zipapp.zipapp_swap) gives it back; this module gives it back after the hooks of a deploy
    (O(lock_run_id)) and serves playbooks that lock an app around tasks of their own.
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
  - containerless.zipapp.app
  - containerless.zipapp.app.lock
  - containerless.zipapp.app.lock_take
  - containerless.zipapp.attributes.action
  - containerless.zipapp.attributes
attributes:
  check_mode:
    support: full
    details: In check mode the lock is neither taken nor released and nothing is logged.
  diff_mode:
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
  audit:
    description:
      - With V(released), the outcome to append to the audit log, for example an C(action) (deploy or
        rollback), the C(version), its C(sha256) and the C(result) (ok, failed or rolled_back).
    type: dict
"""

EXAMPLES = r"""
- name: Take the deploy lock of demoapp
  containerless.zipapp.zipapp_lock:
    name: demoapp
    version: "1.4.1"
    lock_timeout: 60
  register: lock

- name: Give it back and record what was done
  containerless.zipapp.zipapp_lock:
    name: demoapp
    state: released
    lock_run_id: "{{ lock.run_id }}"
    audit:
      action: maintenance
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

from ansible_collections.containerless.zipapp.plugins.module_utils import _common, _lock
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils._names import check_name

ARGUMENT_SPEC = _common.argument_spec(
    _common.APP, _common.LOCK, _common.LOCK_TAKE,
    state=dict(type="str", choices=["acquired", "released"], default="acquired"),
    version=dict(type="str"),
    audit=dict(type="dict"),
)


def acquire(module):
    p = module.params
    try:
        with _lock.StepLock(p["name"], timeout=max(p["lock_timeout"], 600)):
            run_id, warnings = _lock.take(p["name"], dict(p, lock_owner=dict(p["lock_owner"] or {}, version=p["version"])))
    except _lock.LockError as e:
        module.fail_json(msg=str(e), locked=True, lock_held_by=e.owner)
    for w in warnings:
        module.warn(w)
    module.exit_json(changed=True, run_id=run_id)


def release(module):
    p = module.params
    if not p["lock_run_id"]:
        module.fail_json(msg="lock_run_id is required to release the lock")
    audited = False
    with _lock.StepLock(p["name"]):
        if p["audit"]:
            entry = dict(p["audit"], run_id=p["lock_run_id"])
            held = _lock.read_owner(p["name"])
            if held and held.get("run_id") == p["lock_run_id"]:
                entry.setdefault("user", held.get("user"))
                entry.setdefault("controller", held.get("host"))
            layout = rel.Layout(p["root"], p["name"])
            audited = rel.append_audit(layout, entry)
            if entry.get("action") == "deploy" and entry.get("result") == "ok" and entry.get("version"):
                rel.clear_failed(layout, entry["version"])  # it just proved itself live and healthy
        released = _lock.release(p["name"], p["lock_run_id"])
    module.exit_json(changed=released or audited, released=released, audited=audited)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    errors = check_name(p["name"], "name")
    if errors:
        module.fail_json(msg="; ".join(errors))
    if module.check_mode:
        module.exit_json(changed=False, run_id=p["lock_run_id"], audited=False)
    acquire(module) if p["state"] == "acquired" else release(module)


if __name__ == "__main__":
    main()

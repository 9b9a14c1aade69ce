#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: zipapp_command
short_description: Run release commands (migrations, say) with a prepared zipapp release before it goes live
version_added: 0.1.0
description:
  - Runs each command of O(commands) as C(<zipapp> <command...>) in a throwaway one-shot runtime unit
    C(<name>-release-command.service), rendered from the unit spec stored with the release's config (the same
    renderer as the live units), with the same sandbox, env file, credentials and C(User=<name>) with
    C(DynamicUser=yes) (so it shares the app's UID and state directory), pointing at the prepared release.
  - Commands run one after another; the first that fails stops the module with its exit status and last
    journal lines. Nothing is switched by this module, so a failure leaves the live release untouched; with
    O(audit) the failure ends the deploy (one audit line, O(failed_version) marked failed, the lock given back).
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.app
  - containerless.zipapp.app.lock
attributes:
  check_mode:
    support: full
    details: In check mode no command runs.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  version:
    description: The prepared release.
    type: str
    required: true
  config:
    description: Its config dir (C(config.<N>)).
    type: str
    required: true
  commands:
    description: Commands, each a list of arguments after the zipapp, for example C([[manage, migrate, --noinput]]).
    type: list
    elements: list
    required: true
  timeout:
    description: Seconds each command may run.
    type: int
    default: 600
  audit:
    description: On failure, the fields of the audit line that ends the deploy (C(action), C(version), C(sha256),
      C(serving)); with it the failure gives the lock (O(lock_run_id)) back.
    type: dict
  failed_version:
    description: With O(audit), the release to mark failed when a command fails.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Migrate the database with the new release
  containerless.zipapp.zipapp_command:
    name: demoapp
    version: "1.4.2"
    config: "{{ release.config }}"
    commands:
      - [manage, migrate, --noinput]
"""

RETURN = r"""
results:
  description: One entry per command that ran.
  returned: always
  type: list
  elements: dict
  contains:
    command:
      description: The arguments.
      type: list
    ok:
      description: Whether it succeeded.
      type: bool
    seconds:
      description: How long it ran.
      type: float
    output:
      description: Its last journal lines.
      type: list
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _lock, _units
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils._runtime import RuntimeUnits
from ansible_collections.containerless.zipapp.plugins.module_utils._names import check_name, check_version

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    version=dict(type="str", required=True),
    config=dict(type="str", required=True),
    root=dict(type="path", default="/opt/zipapp"),
    commands=dict(type="list", elements="list", required=True),
    timeout=dict(type="int", default=600),
    audit=dict(type="dict"),
    failed_version=dict(type="str", default=""),
    lock_run_id=dict(type="str"),
)


def run_one(module, layout, cmd):
    p = module.params
    instance = RuntimeUnits(module.run_command, layout, p["version"], p["config"], "release-command")
    start = time.time()
    try:
        instance.install(_units.COMMAND, exec_args=cmd, timeout=p["timeout"])
        rc, out = instance.start()
        state = instance.state()
        ok = rc == 0 and state.get("Result") == "success"
        return dict(command=cmd, ok=ok, seconds=round(time.time() - start, 2), output=instance.journal(40),
                    result=state.get("Result"), status=state.get("ExecMainStatus"))
    except (OSError, RuntimeError) as e:
        return dict(command=cmd, ok=False, seconds=round(time.time() - start, 2), output=[str(e)])
    finally:
        instance.remove()


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    errors = check_name(p["name"], "name") + check_version(p["version"], "version")
    for i, cmd in enumerate(p["commands"]):
        if not cmd or not all(isinstance(a, str) for a in cmd):
            errors.append("commands[%d] must be a non-empty list of strings" % i)
    if errors:
        module.fail_json(msg="; ".join(errors))
    if module.check_mode:
        module.exit_json(changed=bool(p["commands"]), results=[])
    layout = rel.Layout(p["root"], p["name"])
    results = []
    with _lock.StepLock(p["name"]):
        problem = _lock.check_held(p["name"], p["lock_run_id"])
        if problem:
            module.fail_json(msg="%s; no command ran" % problem)
        for cmd in p["commands"]:
            entry = run_one(module, layout, cmd)
            results.append(entry)
            if not entry["ok"]:
                msg = "release command %s of %s %s failed (%s, status %s); nothing was switched. Last lines: %s" % (
                    " ".join(cmd), p["name"], p["version"], entry.get("result"), entry.get("status"),
                    " | ".join(entry["output"][-8:]))
                finished = bool(p["audit"] and p["lock_run_id"])
                if finished:
                    rel.end_failed(layout, p["lock_run_id"], dict(p["audit"], result="failed", message=msg),
                                   failed_version=p["failed_version"])
                module.fail_json(msg=msg, results=results, finished=finished)
    module.exit_json(changed=True, results=results)


if __name__ == "__main__":
    main()

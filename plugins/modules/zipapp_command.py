#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: zipapp_command
short_description: Run release commands (migrations, say) with a prepared zipapp release before it goes live
version_added: 0.1.0
description:
  - Runs each command of O(commands) as C(<zipapp> <command...>) through the prepared config's C(exec) script,
    in a transient unit C(<name>-exec-<pid>.service) (C(systemd-run --wait --collect)) with the settings of the
    release's one-off unit, rendered from the unit spec stored with the config (the same renderer as the live
    units), so with the same sandbox, env file, credentials and C(User=<name>) with C(DynamicUser=yes) (it shares
    the app's UID and state directory), running the prepared release. C(zipapp-exec) runs the same script.
  - Commands run one after another; the first that fails stops the module with its exit status and last
    journal lines. Nothing is switched by this module, so a failure leaves the live release untouched; with
    O(audit) the failure ends the deploy (one audit line, O(failed_version) marked failed, the lock given back).
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.app
  - containerless.zipapp.app.lock
  - containerless.zipapp.attributes
attributes:
  check_mode:
    support: full
    details: In check mode no command runs.
  diff_mode:
    support: none
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
      description: Its last 40 lines of output (stdout, then stderr).
      type: list
    status:
      description: Its exit status.
      type: int
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _common, _exec, _lock
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils._names import check_name, check_version

ARGUMENT_SPEC = _common.argument_spec(
    _common.APP, _common.LOCK,
    version=dict(type="str", required=True),
    config=dict(type="str", required=True),
    commands=dict(type="list", elements="list", required=True),
    timeout=dict(type="int", default=600),
    audit=dict(type="dict"),
    failed_version=dict(type="str", default=""),
)


def run_one(module, layout, cmd):
    """Run ``cmd`` through the prepared config's exec script (the same one-off unit as ``zipapp-exec``)."""
    p = module.params
    script = os.path.join(layout.config_dir(p["version"], p["config"]), _exec.SCRIPT)
    start = time.time()
    if not os.path.isfile(script):
        return dict(command=cmd, ok=False, seconds=0.0, status=None,
                    output=["the config %s of %s %s has no exec script: prepare the release again (zipapp_release)"
                            % (p["config"], p["name"], p["version"])])
    rc, out, err = module.run_command(["/bin/sh", script] + list(cmd),
                                      environ_update={"ZIPAPP_EXEC_TIMEOUT": str(p["timeout"])})
    lines = [line for line in (out + "\n" + err).splitlines() if line.strip()]
    return dict(command=cmd, ok=rc == 0, seconds=round(time.time() - start, 2), output=lines[-40:], status=rc)


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
                msg = "release command %s of %s %s failed (exit status %s); nothing was switched. Last lines: %s" % (
                    " ".join(cmd), p["name"], p["version"], entry.get("status"), " | ".join(entry["output"][-8:]))
                finished = bool(p["audit"] and p["lock_run_id"])
                if finished:
                    rel.end_failed(layout, p["lock_run_id"], dict(p["audit"], result="failed", message=msg),
                                   failed_version=p["failed_version"])
                module.fail_json(msg=msg, results=results, finished=finished)
    module.exit_json(changed=True, results=results)


if __name__ == "__main__":
    main()

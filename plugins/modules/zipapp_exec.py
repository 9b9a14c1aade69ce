#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: zipapp_exec
short_description: Run a one-off command with the live release of a zipapp, in its sandbox
version_added: 0.1.0
description:
  - Runs C(<zipapp> <args...>) of the live release (the one C(current) names) as a transient systemd service
    with that release's env file, credentials, C(User=<name>) with C(DynamicUser=yes), state directory and
    sandbox, for example C(manage createsuperuser --noinput) or a data fix, and waits for it.
  - Runs the release's C(exec) script, the same one C(zipapp-exec NAME ARGS...) runs on the host. Nothing
    stays behind, since the transient unit is collected when the command ends.
  - Fails with the command's exit status (O(args) and the output are returned). Fails before anything runs
    when the app is unknown or has nothing live.
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.app
  - containerless.zipapp.attributes
attributes:
  check_mode:
    support: partial
    details: In check mode the command does not run; the module only checks that it could.
  diff_mode:
    support: none
options:
  args:
    description: The arguments after the zipapp, for example V([manage, check]).
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds the command may run before it is stopped (its unit is stopped, and the module fails).
    type: int
    default: 3600
"""

EXAMPLES = r"""
- name: Check the live release of demoapp
  containerless.zipapp.zipapp_exec:
    name: demoapp
    args: [manage, check]
  register: check

- name: Create the admin user (no secret in the output)
  containerless.zipapp.zipapp_exec:
    name: demoapp
    args: [manage, createsuperuser, --noinput, --username, admin, --email, admin@example.com]
  no_log: true
"""

RETURN = r"""
version:
  description: The live release the command ran with.
  returned: when something is live
  type: str
rc:
  description: The command's exit status.
  returned: when it ran
  type: int
stdout:
  description: Its standard output.
  returned: when it ran
  type: str
stderr:
  description: Its standard error.
  returned: when it ran
  type: str
seconds:
  description: How long it ran, including the start of its transient unit.
  returned: when it ran
  type: float
"""

import os
import shlex
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _common, _exec
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils._names import check_name

ARGUMENT_SPEC = _common.argument_spec(
    _common.APP,
    args=dict(type="list", elements="str", required=True),
    timeout=dict(type="int", default=3600),
)


def live_exec(layout):
    """(version, path of the live release's exec script); a message instead when there is none."""
    if not os.path.isdir(layout.app):
        return None, "no app %s under %s (nothing ran)" % (layout.name, layout.root)
    version = rel.link_version(layout, layout.current)
    if not version:
        return None, "%s has nothing live (no %s; nothing ran)" % (layout.name, layout.current)
    script = os.path.join(layout.config_link(version), _exec.SCRIPT)
    if not os.path.isfile(script):
        return version, ("the live release %s of %s has no exec script (deployed by an older version of the "
                         "collection): deploy it again, then run the command (nothing ran)" % (version, layout.name))
    return version, script


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    errors = check_name(p["name"], "name")
    if not p["args"] or any(a is None for a in p["args"]):
        errors.append("args must be a non-empty list of strings, e.g. [manage, check]")
    if p["timeout"] < 1:
        errors.append("timeout must be at least 1 second")
    if errors:
        module.fail_json(msg="; ".join(errors))
    layout = rel.Layout(p["root"], p["name"])
    version, script = live_exec(layout)
    if not version or not script.startswith("/"):
        module.fail_json(msg=script, version=version)
    if module.check_mode:
        module.exit_json(changed=True, version=version, skipped_reason="check mode: the command did not run")
    start = time.time()
    # systemd stops the unit after RuntimeMaxSec (the script's ZIPAPP_EXEC_TIMEOUT)
    rc, out, err = module.run_command(["/bin/sh", script] + p["args"],
                                      environ_update={"ZIPAPP_EXEC_TIMEOUT": str(p["timeout"])})
    seconds = round(time.time() - start, 2)
    result = dict(changed=True, version=version, rc=rc, stdout=out, stderr=err, seconds=seconds)
    if rc != 0:
        how = "exited with status %d" % rc
        if seconds >= p["timeout"]:
            how += " after its timeout of %d s" % p["timeout"]
        last = (err or out).strip().splitlines()[-1:]
        module.fail_json(msg="%s (with %s %s) %s%s" % (" ".join(shlex.quote(a) for a in p["args"]), p["name"], version,
                                                       how, ": " + last[0] if last else ""), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

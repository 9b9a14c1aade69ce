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
  - Fails with the command's exit status (the output is returned). Fails before anything runs when the app is
    unknown or has nothing live.
  - The arguments are never echoed, in the result, its message or the module's log line on the host, since a
    command line may carry a secret. Better still, pass a secret in O(env) or O(stdin), which are never logged.
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
  env:
    description:
      - Environment variables for this command only, over the release's own (for example
        C(DJANGO_SUPERUSER_PASSWORD) for C(manage createsuperuser --noinput)). Never logged.
      - systemd reads them from a root-only file in C(/run) that is removed when the command ends, so they never
        show in a command line.
    type: dict
    default: {}
  stdin:
    description: Text given to the command on its standard input, as it is (no newline added). Never logged.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Check the live release of demoapp
  containerless.zipapp.zipapp_exec:
    name: demoapp
    args: [manage, check]
  register: check

- name: Create the admin user; its password never shows in a command line or the output
  containerless.zipapp.zipapp_exec:
    name: demoapp
    args: [manage, createsuperuser, --noinput, --username, admin, --email, admin@example.com]
    env:
      DJANGO_SUPERUSER_PASSWORD: "{{ vault_admin_password }}"
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
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _common, _exec
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils._envfile import EnvFileError, render_env_file
from ansible_collections.containerless.zipapp.plugins.module_utils._names import check_name

ARGUMENT_SPEC = _common.argument_spec(
    _common.APP,
    # no_log: neither the log line on the host nor the invocation in the result shows them (see main())
    args=dict(type="list", elements="str", required=True, no_log=True),
    timeout=dict(type="int", default=3600),
    env=dict(type="dict", default={}, no_log=True),
    stdin=dict(type="str", default="", no_log=True),
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


def env_file(env):
    """A root-only file in /run with ``env`` in systemd's EnvironmentFile= syntax; its path.  systemd reads it when
    it starts the command's unit, so the values never show in systemd-run's command line."""
    text = render_env_file(env, header="zipapp_exec: this command's environment", var_name="env")
    fd, path = tempfile.mkstemp(prefix="zipapp-exec-", suffix=".env", dir="/run")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    # args are no_log so that they are never logged or returned, but Ansible would also mask every string equal to
    # one of them in the command's output ("check" in "System check identified no issues"): only env and stdin
    # values are masked in what is returned
    module.no_log_values.difference_update(a for a in module.params["args"] or [] if a)
    module.no_log_values.update(v for v in list(module.params["env"].values()) + [module.params["stdin"]]
                                if isinstance(v, str) and v)
    p = module.params
    hidden = "(not shown)"
    # what -vvv shows of the call, which Ansible would otherwise build from the params as they are
    invocation = {"module_args": dict(p, args=[hidden] * len(p["args"] or []),
                                      env=dict((k, hidden) for k in p["env"]), stdin=hidden if p["stdin"] else "")}
    errors = check_name(p["name"], "name")
    if not p["args"] or any(a is None for a in p["args"]):
        errors.append("args must be a non-empty list of strings, e.g. [manage, check]")
    if p["timeout"] < 1:
        errors.append("timeout must be at least 1 second")
    if errors:
        module.fail_json(msg="; ".join(errors), invocation=invocation)
    layout = rel.Layout(p["root"], p["name"])
    version, script = live_exec(layout)
    if not version or not script.startswith("/"):
        module.fail_json(msg=script, version=version, invocation=invocation)
    if module.check_mode:
        module.exit_json(changed=True, version=version, skipped_reason="check mode: the command did not run",
                         invocation=invocation)
    # systemd stops the unit after RuntimeMaxSec (the script's ZIPAPP_EXEC_TIMEOUT)
    environ = {"ZIPAPP_EXEC_TIMEOUT": str(p["timeout"])}
    path = None
    try:
        if p["env"]:
            try:
                path = env_file(p["env"])
            except EnvFileError as e:
                module.fail_json(msg="%s (nothing ran)" % e, invocation=invocation)
            environ["ZIPAPP_EXEC_ENV_FILE"] = path
        start = time.time()
        rc, out, err = module.run_command(["/bin/sh", script] + p["args"], environ_update=environ,
                                          data=p["stdin"] or None, binary_data=True)
        seconds = round(time.time() - start, 2)
    finally:
        if path:
            os.unlink(path)
    result = dict(changed=True, version=version, rc=rc, stdout=out, stderr=err, seconds=seconds, invocation=invocation)
    if rc != 0:
        how = "exited with status %d" % rc
        if seconds >= p["timeout"]:
            how += " after its timeout of %d s" % p["timeout"]
        last = (err or out).strip().splitlines()[-1:]
        module.fail_json(msg="the command (with %s %s) %s%s" % (p["name"], version, how, ": " + last[0] if last else ""),
                         **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

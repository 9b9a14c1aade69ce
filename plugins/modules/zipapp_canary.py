#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: zipapp_canary
short_description: Boot a prepared zipapp release in a throwaway instance and check its health before it goes live
version_added: 0.1.0
description:
  - Starts the prepared release as C(<name>-canary.service), a runtime unit derived from the release's own
    service unit (same sandbox, env file, credentials and C(User=<name>) with C(DynamicUser=yes), so it shares
    the app's UID and state directory), socket-activated on its own unix socket
    C(/run/zipapp/<name>-canary.sock).
  - With O(health_path) it sends C(GET <health_path>) through that socket until a 2xx answer (bounded by
    O(retries) and O(delay)); without it the instance must stay up for O(settle) seconds.
  - The instance is stopped and its units removed in every case. A release that fails is never made live
    and never serves a request; the failure names the version, the health answer and the instance's last
    journal lines.
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.app
  - containerless.zipapp.app.lock
  - containerless.zipapp.app.health
attributes:
  check_mode:
    support: full
    details: In check mode nothing is started; the result says the check would run.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  version:
    description: The prepared release to boot.
    type: str
    required: true
  config:
    description: Its config dir (C(config.<N>)).
    type: str
    required: true
  health_path:
    description: Path to C(GET); empty means the settle check.
    type: str
    default: ""
  health_host:
    description: C(Host) header of the check.
    type: str
    default: localhost
"""

EXAMPLES = r"""
- name: Check release 1.4.2 before it goes live
  containerless.zipapp.zipapp_canary:
    name: demoapp
    version: "1.4.2"
    config: "{{ release.config }}"
    health_path: /health
"""

RETURN = r"""
ok:
  description: Whether the canary passed.
  returned: always
  type: bool
status:
  description: HTTP status of the last answer.
  returned: when a request was answered
  type: int
body:
  description: The start of the last answer's body.
  returned: always
  type: str
attempts:
  description: Requests sent.
  returned: always
  type: int
seconds:
  description: Seconds from the first request to the verdict.
  returned: always
  type: float
journal:
  description: The canary's last journal lines (on failure).
  returned: on failure
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _health, _lock
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils._transient import Throwaway
from ansible_collections.containerless.zipapp.plugins.module_utils._validate import check_name, check_version


def settle(instance, seconds):
    rc, out = instance.start(instance.service)
    if rc != 0:
        return dict(ok=False, error="the canary did not start: %s" % out, attempts=1, seconds=0, body="")
    start = time.time()
    while time.time() - start < seconds:
        dead = instance.dead()
        if dead or instance.state().get("ActiveState") != "active":
            return dict(ok=False, error=dead or "the canary stopped", attempts=1, seconds=round(time.time() - start, 2),
                        body="")
        time.sleep(0.2)
    return dict(ok=True, attempts=1, seconds=round(time.time() - start, 2), body="", status=None)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            version=dict(type="str", required=True),
            config=dict(type="str", required=True),
            root=dict(type="path", default="/opt/zipapp"),
            health_path=dict(type="str", default=""),
            health_host=dict(type="str", default="localhost"),
            timeout=dict(type="float", default=5),
            retries=dict(type="int", default=30),
            delay=dict(type="float", default=1),
            settle=dict(type="float", default=3),
            lock_run_id=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    errors = check_name(p["name"], "name") + check_version(p["version"], "version")
    if errors:
        module.fail_json(msg="; ".join(errors))
    if module.check_mode:
        module.exit_json(changed=False, ok=True, skipped_in_check_mode=True, attempts=0, seconds=0, body="")
    layout = rel.Layout(p["root"], p["name"])
    instance = Throwaway(module.run_command, layout, p["version"], p["config"], "canary")
    with _lock.StepLock(p["name"]):
        problem = _lock.check_held(p["name"], p["lock_run_id"])
        if problem:
            module.fail_json(msg="%s; nothing was started" % problem)
        try:
            instance.install(with_socket=True)
            rc, out = instance.start(instance.socket)
            if rc != 0:
                raise RuntimeError("starting %s failed: %s" % (instance.socket, out))
            if p["health_path"]:
                result = _health.check(instance.socket_path, p["health_path"], p["health_host"], p["timeout"],
                                       p["retries"], p["delay"], still_running=instance.dead)
            else:
                result = settle(instance, p["settle"])
            if not result["ok"]:
                result["journal"] = instance.journal()
        except (OSError, RuntimeError) as e:
            result = dict(ok=False, error=str(e), attempts=0, seconds=0, body="", journal=instance.journal())
        finally:
            instance.remove()
    if not result["ok"]:
        what = "GET %s: %s" % (p["health_path"], _health.describe(result)) if p["health_path"] else \
            "it did not stay up for %s s: %s" % (p["settle"], result.get("error"))
        module.fail_json(msg="release %s of %s failed its canary check before going live (%s); it was not "
                             "switched in. Last lines of its journal: %s"
                         % (p["version"], p["name"], what, " | ".join(result.get("journal", [])[-8:])), **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: zipapp_health
short_description: Check the live zipapp service through its real socket
version_added: 0.1.0
description:
  - With O(path), sends C(GET <path>) to O(address) (the app's socket, C(host:port) or a unix socket path)
    until a 2xx answer, bounded by O(retries) and O(delay).
  - Without O(path), the service must stay active for O(settle) seconds with the same main process.
  - Changes nothing.
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.app.health
  - containerless.zipapp.attributes
attributes:
  check_mode:
    support: full
    details: In check mode nothing is checked (the service was not restarted).
  diff_mode:
    support: N/A
options:
  service:
    description: The service unit.
    type: str
    required: true
  address:
    description: Where the service answers (C(127.0.0.1:8000), C(8000), C(/run/app.sock)); needed with O(path).
    type: str
    default: ""
  path:
    description: Path to C(GET); empty means the settle check.
    type: str
    default: ""
  host:
    description: C(Host) header.
    type: str
    default: localhost
"""

EXAMPLES = r"""
- name: Check demoapp after the switch
  containerless.zipapp.zipapp_health:
    service: demoapp.service
    address: 127.0.0.1:8000
    path: /health
"""

RETURN = r"""
ok:
  description: Whether the service is healthy.
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
  description: Seconds until the verdict.
  returned: always
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _common, _health
from ansible_collections.containerless.zipapp.plugins.module_utils import _systemd as sd


def main():
    module = AnsibleModule(
        argument_spec=_common.argument_spec(
            _common.HEALTH,
            service=dict(type="str", required=True),
            address=dict(type="str", default=""),
            path=dict(type="str", default=""),
            host=dict(type="str", default="localhost"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if module.check_mode:
        module.exit_json(changed=False, ok=True, skipped_in_check_mode=True, attempts=0, seconds=0, body="")
    run = module.run_command

    def failed():
        s = sd.show(run, p["service"], "ActiveState", "Result")
        if s.get("ActiveState") == "failed":
            return "%s failed (%s)" % (p["service"], s.get("Result"))
        return None

    if p["path"]:
        if not p["address"]:
            module.fail_json(msg="address is needed to check %s" % p["path"])
        result = _health.check(p["address"], p["path"], p["host"], p["timeout"], p["retries"], p["delay"],
                               still_running=failed)
    else:
        start = time.time()
        first = sd.show(run, p["service"], "ActiveState", "MainPID", "NRestarts")
        result = dict(ok=first.get("ActiveState") == "active", attempts=1, body="", status=None)
        while result["ok"] and time.time() - start < p["settle"]:
            time.sleep(0.2)
            now = sd.show(run, p["service"], "ActiveState", "MainPID", "NRestarts")
            if now != first:
                result["ok"] = False
        if not result["ok"]:
            result["error"] = "%s did not stay up for %s s" % (p["service"], p["settle"])
        result["seconds"] = round(time.time() - start, 2)
    if not result["ok"]:
        what = "GET %s: %s" % (p["path"], _health.describe(result)) if p["path"] else result.get("error")
        module.fail_json(msg="%s is not healthy (%s)" % (p["service"], what), **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: zipapp_release_info
short_description: Report an app's releases and whether the host can run it
version_added: 0.1.0
description:
  - Reads the release tree of a zipapp deployed by the C(containerless.zipapp.deploy) role and reports every
    release with its state (V(live), V(previous), V(ready), V(incomplete)). The live release is read from
    the C(current) link, never guessed from modification times.
  - Also reports what the deploy role checks before it changes anything (whether systemd is PID 1,
    whether the module runs as root and whether the interpreter exists).
  - Changes nothing.
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.app
  - containerless.zipapp.attributes.info_module
  - containerless.zipapp.attributes
options:
  python:
    description: Interpreter to check (path).
    type: path
"""

EXAMPLES = r"""
- name: Show the releases of demoapp
  containerless.zipapp.zipapp_release_info:
    name: demoapp
  register: demoapp_releases

- name: Print the live release
  ansible.builtin.debug:
    msg: "live: {{ demoapp_releases.live }} (previous: {{ demoapp_releases.previous }})"
"""

RETURN = r"""
live:
  description: The version C(current) points to, or null before the first deploy.
  returned: always
  type: str
live_since:
  description: When C(current) was last switched (UTC, ISO 8601), or null.
  returned: always
  type: str
previous:
  description: The version that was live before, or null.
  returned: always
  type: str
releases:
  description: Every release, oldest deploy first.
  returned: always
  type: list
  elements: dict
  contains:
    version:
      description: The version.
      type: str
    state:
      description:
        - V(live), V(previous), V(ready) (complete, not live), V(failed) (a deploy of it failed; kept for
          inspection, never rolled back to) or V(incomplete) (no record or config yet).
      type: str
    sha256:
      description: The verified sha256 of the artifact.
      type: str
    url:
      description: Where the artifact came from.
      type: str
    deployed_at:
      description: When the release was first deployed (UTC, ISO 8601).
      type: str
    deployed_by:
      description: Who deployed it (controller user and host).
      type: str
    config:
      description: The config dir the release's C(config) link points to.
      type: str
    failed:
      description: When and why a deploy of it failed, or null.
      type: dict
systemd:
  description: Whether systemd is PID 1.
  returned: always
  type: bool
uid:
  description: The uid the module runs as.
  returned: always
  type: int
python:
  description: The interpreter named in O(python).
  returned: when O(python) is given
  type: dict
  contains:
    path:
      description: The path.
      type: str
    exists:
      description: Whether it exists.
      type: bool
    executable:
      description: Whether it is an executable file.
      type: bool
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _common
from ansible_collections.containerless.zipapp.plugins.module_utils._release import (
    Layout,
    link_version,
    list_releases,
)
from ansible_collections.containerless.zipapp.plugins.module_utils._systemd import booted


def main():
    module = AnsibleModule(
        argument_spec=_common.argument_spec(_common.APP, python=dict(type="path")),
        supports_check_mode=True,
    )
    layout = Layout(module.params["root"], module.params["name"])
    live_since = None
    if os.path.islink(layout.current):
        live_since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.lstat(layout.current).st_mtime))
    result = dict(
        changed=False,
        live=link_version(layout, layout.current),
        live_since=live_since,
        previous=link_version(layout, layout.previous),
        releases=list_releases(layout),
        systemd=booted(),
        uid=os.geteuid(),
    )
    python = module.params["python"]
    if python:
        result["python"] = dict(
            path=python,
            exists=os.path.exists(python),
            executable=os.path.isfile(python) and os.access(python, os.X_OK),
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()

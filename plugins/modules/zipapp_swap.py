#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: zipapp_swap
short_description: Make a prepared zipapp release live with one atomic symlink swap
version_added: 0.1.0
description:
  - Installs the units stored with the release's config into C(/etc/systemd/system) (reloading systemd
    when one changed), points the release's C(config) link at the wanted config, then points C(current)
    at the release with one C(rename(2)) and C(previous) at the release that was live before.
  - Enables the units, starts the socket unit, and returns the units that must be restarted; the
    deploy role restarts them through its handler, so nothing restarts when nothing changed.
  - Prunes releases beyond O(keep) (never the live or previous one) with their shiv caches, and old
    config dirs of the live release (the one before the live config is kept for a restore).
author:
  - containerless.zipapp maintainers
extends_documentation_fragment:
  - action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  name:
    description: Name of the app.
    type: str
    required: true
  version:
    description: Version to make live (prepared by M(containerless.zipapp.zipapp_release)).
    type: str
    required: true
  config:
    description: Config dir of the release to make live (C(config.<N>)).
    type: str
    required: true
  root:
    description: Root directory of the apps.
    type: path
    default: /opt/zipapp
  keep:
    description: Releases to keep; the live and previous releases are always kept.
    type: int
    default: 5
"""

EXAMPLES = r"""
- name: Make release 1.4.2 live
  containerless.zipapp.zipapp_swap:
    name: demoapp
    version: "1.4.2"
    config: "{{ release.config }}"
  register: swap
"""

RETURN = r"""
restart:
  description: Units to restart because the release, its config or its units changed.
  returned: always
  type: list
  elements: str
  sample: [demoapp.service]
live:
  description: The live version after the swap.
  returned: always
  type: str
previous:
  description: The version that was live before the swap.
  returned: always
  type: str
units_changed:
  description: Unit files that were written or removed.
  returned: always
  type: list
  elements: str
pruned:
  description: Releases removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils._switch import Switch
from ansible_collections.containerless.zipapp.plugins.module_utils._validate import check_name, check_version


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            version=dict(type="str", required=True),
            config=dict(type="str", required=True),
            root=dict(type="path", default="/opt/zipapp"),
            keep=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    p = module.params
    errors = check_name(p["name"], "name") + check_version(p["version"], "version")
    if not rel.CONFIG_RE.fullmatch(p["config"]):
        errors.append("config must be config.<N>, got %r" % p["config"])
    if p["keep"] < 1:
        errors.append("keep must be at least 1")
    if errors:
        module.fail_json(msg="; ".join(errors))
    name, version, config = p["name"], p["version"], p["config"]
    layout = rel.Layout(p["root"], name)
    check = module.check_mode

    if not os.path.isdir(layout.config_dir(version, config)):
        if check:  # check mode before the download: all of it would be new
            module.exit_json(changed=True, restart=[name + ".service"], live=version,
                             previous=rel.link_version(layout, layout.current), units_changed=[], pruned=[])
        module.fail_json(msg="%s does not exist: prepare the release first (zipapp_release)"
                         % layout.config_dir(version, config))

    switch = Switch(module.run_command, layout, version, config)
    plan = switch.plan()
    if not check:
        try:
            switch.apply(plan)
        except (OSError, RuntimeError, rel.ReleaseError) as e:
            module.fail_json(msg="switching %s to %s failed: %s" % (name, version, e))
    pruned = rel.prune(layout, p["keep"], check_mode=check)
    if not check:
        rel.prune_configs(layout, version)
    module.exit_json(
        changed=not plan["in_sync"] or bool(pruned),
        restart=plan["restart"],
        live=version,
        previous=plan["live_before"] if plan["release_switch"] else plan["previous_before"],
        units_changed=sorted(plan["unit_changes"]),
        pruned=pruned,
    )


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: zipapp_swap
short_description: Make a prepared zipapp release live with one atomic symlink swap, or roll back
version_added: 0.1.0
description:
  - Installs the units stored with the release's config into C(/etc/systemd/system) (reloading systemd
    when one changed), points the release's C(config) link at the wanted config, then points C(current)
    at the release with one C(rename(2)) and C(previous) at the release that was live before.
  - Enables the units, starts the socket unit, and returns the units that must be restarted; the
    deploy role restarts them through its handler, so nothing restarts when nothing changed. A service
    that still runs a release from before the last switch (a play that stopped before its handlers)
    is returned too.
  - With O(rollback=true) the same switch puts an earlier release back; C(previous) then points at the
    newest good release, and O(failed_version) is marked failed (kept for inspection, never picked as
    previous again). Rolling back to no version at all (the first deploy failed after its switch) stops
    and removes the app's units and links.
  - Prunes releases beyond O(keep) (never the live or previous one) with their shiv caches, and old
    config dirs of the live release (the one before the live config is kept for a restore).
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.app
  - containerless.zipapp.app.lock
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  version:
    description:
      - Version to make live (prepared by M(containerless.zipapp.zipapp_release)).
      - With O(rollback=true) it may be empty, and then nothing is live afterwards.
    type: str
  config:
    description: Config dir of the release to make live (C(config.<N>)); defaults to the release's linked config.
    type: str
  keep:
    description: Releases to keep; the live and previous releases are always kept. V(0) prunes nothing.
    type: int
    default: 5
  rollback:
    description: Put an earlier release back (see above).
    type: bool
    default: false
  failed_version:
    description: With O(rollback=true), the version to mark failed.
    type: str
  reason:
    description: Why O(failed_version) failed (recorded in its C(release.json)).
    type: str
    default: ""
  restore_config_of:
    description:
      - With O(rollback=true), a release whose C(config) link is set back to O(restore_config) (the failed
        deploy of an existing version had switched it to its new config).
    type: str
  restore_config:
    description: The config dir O(restore_config_of) gets back.
    type: str
"""

EXAMPLES = r"""
- name: Make release 1.4.2 live
  containerless.zipapp.zipapp_swap:
    name: demoapp
    version: "1.4.2"
    config: "{{ release.config }}"
  register: swap

- name: Put 1.4.1 back after 1.4.2 failed its health check
  containerless.zipapp.zipapp_swap:
    name: demoapp
    version: "1.4.1"
    rollback: true
    failed_version: "1.4.2"
    reason: "health check: HTTP 500"
"""

RETURN = r"""
restart:
  description: Units to restart because the release, its config or its units changed.
  returned: always
  type: list
  elements: str
  sample: [demoapp.service]
switched:
  description: Whether C(current) or the release's C(config) link changed.
  returned: always
  type: bool
live:
  description: The live version after the swap (null after a rollback to nothing).
  returned: always
  type: str
previous:
  description: The version C(previous) points at after the swap.
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

from ansible_collections.containerless.zipapp.plugins.module_utils import _lock
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils._switch import LIVE_BEFORE, Switch, deactivate
from ansible_collections.containerless.zipapp.plugins.module_utils._validate import check_name, check_version


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            version=dict(type="str"),
            config=dict(type="str"),
            root=dict(type="path", default="/opt/zipapp"),
            keep=dict(type="int", default=5),
            rollback=dict(type="bool", default=False),
            failed_version=dict(type="str"),
            reason=dict(type="str", default=""),
            restore_config_of=dict(type="str"),
            restore_config=dict(type="str"),
            lock_run_id=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    name, version, config = p["name"], p["version"] or None, p["config"] or None
    errors = check_name(name, "name")
    for key in ("version", "failed_version"):
        if p[key]:
            errors += check_version(p[key], key)
    if config and not rel.CONFIG_RE.fullmatch(config):
        errors.append("config must be config.<N>, got %r" % config)
    if p["keep"] < 0:
        errors.append("keep must not be negative")
    if not version and not p["rollback"]:
        errors.append("version is required unless rollback=true")
    if errors:
        module.fail_json(msg="; ".join(errors))
    layout = rel.Layout(p["root"], name)
    check = module.check_mode
    if check:
        swap(module, layout, version, config)
    with _lock.StepLock(name):
        problem = _lock.check_held(name, p["lock_run_id"])
        if problem:
            module.fail_json(msg="%s; nothing was switched" % problem)
        swap(module, layout, version, config)


def restore_config(module, layout, version):
    """Point a (not live) release's config link back at the config it had before a failed deploy."""
    p = module.params
    target, config = p["restore_config_of"], p["restore_config"]
    if not (p["rollback"] and target and config) or target == version:
        return False
    if rel.linked_config(layout, target) == config or not os.path.isdir(layout.config_dir(target, config)):
        return False
    if not module.check_mode:
        rel.swap_link(layout.config_link(target), config)
    return True


def swap(module, layout, version, config):
    p = module.params
    check = module.check_mode
    name = layout.name
    live_before = rel.link_version(layout, layout.current)
    failing = p["failed_version"] if p["rollback"] and p["failed_version"] != version else None
    if failing and not check:
        rel.mark_failed(layout, failing, p["reason"] or "the deploy failed")
    restored = restore_config(module, layout, version)
    if not version:  # roll back to nothing
        removed = deactivate(module.run_command, layout, check_mode=check)
        module.exit_json(changed=bool(removed or live_before or restored), restart=[], switched=bool(live_before),
                         live=None, previous=None, units_changed=removed, pruned=[])
    config = config or rel.linked_config(layout, version)
    if not config or not os.path.isdir(layout.config_dir(version, config)):
        if check and not p["rollback"]:  # check mode before the download: all of it would be new
            module.exit_json(changed=True, restart=[name + ".service"], switched=True, live=version,
                             previous=live_before, units_changed=[], pruned=[])
        module.fail_json(msg="release %s of %s is not prepared on this host (no %s): nothing was switched"
                         % (version, name, layout.config_dir(version, config or "config")))
    if p["rollback"]:
        previous = rel.newest_good(layout, exclude=(version, p["failed_version"], live_before))
        if live_before and live_before != p["failed_version"] and live_before != version:
            previous = live_before  # a rollback from a good release keeps it as the way forward again
    else:
        previous = LIVE_BEFORE
    switch = Switch(module.run_command, layout, version, config, previous=previous)
    plan = switch.plan()
    if not check:
        try:
            switch.apply(plan)
        except (OSError, RuntimeError, rel.ReleaseError) as e:
            module.fail_json(msg="switching %s to %s failed: %s" % (name, version, e))
    pruned = rel.prune(layout, p["keep"], check_mode=check) if p["keep"] else []
    if not check:
        rel.prune_configs(layout, version)
    module.exit_json(
        changed=not plan["in_sync"] or bool(pruned) or bool(failing) or restored,
        restart=plan["restart"],
        switched=bool(plan["release_switch"] or plan["config_switch"]),
        live=version,
        previous=rel.link_version(layout, layout.previous) if not check else
        (plan["live_before"] if plan["release_switch"] else plan["previous_before"]),
        units_changed=sorted(plan["unit_changes"]),
        pruned=pruned,
    )


if __name__ == "__main__":
    main()

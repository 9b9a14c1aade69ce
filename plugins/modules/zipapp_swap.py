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
from ansible_collections.containerless.zipapp.plugins.module_utils import _systemd as sd
from ansible_collections.containerless.zipapp.plugins.module_utils._validate import check_name, check_version

MARKER = "# containerless.zipapp unit of "


def plan_units(layout, version, config, name):
    """(unit name -> new text or None to remove) for units that differ from what is installed."""
    units_dir = os.path.join(layout.config_dir(version, config), "units")
    wanted = {}
    if os.path.isdir(units_dir):
        for unit in sorted(os.listdir(units_dir)):
            wanted[unit] = rel.read_bytes(os.path.join(units_dir, unit))
    changes = {}
    for unit, data in wanted.items():
        if rel.read_bytes(os.path.join(sd.UNIT_DIR, unit)) != data:
            changes[unit] = data
    # units of this app that the release no longer has (for example the socket after zipapp_listen="")
    for unit in (name + ".service", name + ".socket"):
        path = os.path.join(sd.UNIT_DIR, unit)
        if unit not in wanted and os.path.isfile(path):
            installed = rel.read_bytes(path) or b""
            if (MARKER + name).encode() in installed:
                changes[unit] = None
    return wanted, changes


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
    service, socket = name + ".service", name + ".socket"
    run = module.run_command
    check = module.check_mode

    live_before = rel.link_version(layout, layout.current)
    previous_before = rel.link_version(layout, layout.previous)
    config_dir = layout.config_dir(version, config)
    if not os.path.isdir(config_dir):
        if check:  # check mode before the download: all of it would be new
            module.exit_json(changed=True, restart=[service], live=version, previous=live_before,
                             units_changed=[], pruned=[])
        module.fail_json(msg="%s does not exist: prepare the release first (zipapp_release)" % config_dir)

    wanted, unit_changes = plan_units(layout, version, config, name)
    config_switch = rel.linked_config(layout, version) != config
    release_switch = live_before != version
    has_socket = socket in wanted
    restart_needed = bool(unit_changes or config_switch or release_switch)
    changed = restart_needed

    if not check:
        socket_was_active = sd.is_active(run, socket)
        try:
            for unit, data in sorted(unit_changes.items()):
                path = os.path.join(sd.UNIT_DIR, unit)
                if data is None:
                    run(["systemctl", "disable", "--now", unit])
                    os.unlink(path)
                else:
                    rel.write_file(path, data, 0o644)
            if unit_changes:
                sd.daemon_reload(run)
            if config_switch:
                rel.swap_link(layout.config_link(version), config)
            if release_switch:
                if live_before:
                    rel.swap_link(layout.previous, layout.link_target(live_before))
                rel.swap_link(layout.current, layout.link_target(version))
            to_enable = [u for u in sorted(wanted) if u.endswith((".service", ".socket")) and not sd.is_enabled(run, u)]
            if to_enable:
                sd.systemctl(run, "enable", *to_enable)
                changed = True
            if has_socket and socket in unit_changes and socket_was_active:
                # a new ListenStream= needs the socket restarted, which systemd refuses while the service runs
                sd.systemctl(run, "stop", service)
                sd.systemctl(run, "restart", socket)
            elif has_socket and not sd.is_active(run, socket):
                sd.systemctl(run, "start", socket)
                changed = True
        except (OSError, RuntimeError, rel.ReleaseError) as e:
            module.fail_json(msg="switching %s to %s failed: %s" % (name, version, e))

    # A play that failed (or was killed) between the switch and the handler leaves the service on the
    # old release: anything switched after its main process started means it must restart.
    state, started = sd.service_state(run, service)
    if state == "failed":
        restart_needed = True
        if not check:
            run(["systemctl", "reset-failed", service])
    elif state == "active" and started is not None and not restart_needed:
        paths = [layout.current, layout.config_link(version)] + [os.path.join(sd.UNIT_DIR, u) for u in wanted]
        newest = max([os.lstat(x).st_mtime for x in paths if os.path.lexists(x)] or [0])
        restart_needed = started < newest
    elif not has_socket and state != "active":
        restart_needed = True
    restart = [service] if restart_needed else []
    changed = changed or restart_needed

    pruned = rel.prune(layout, p["keep"], check_mode=check)
    if not check:
        rel.prune_configs(layout, version)
    module.exit_json(
        changed=changed or bool(pruned),
        restart=restart,
        live=version,
        previous=live_before if release_switch else previous_before,
        units_changed=sorted(unit_changes),
        pruned=pruned,
    )


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: zipapp_swap
short_description: Make a prepared zipapp release live with one atomic symlink swap and a handover, or roll back
version_added: 0.1.0
description:
  - The one step that changes what runs, in this order; the deploy role's restart handler runs it.
  - B(Canary.) A release and config that never passed a check on this host first boot as
    C(<name>-canary.service) on a private unix socket (never on the app's socket) and must answer
    O(health_path) with a 2xx (or stay up O(settle) seconds). A failed canary is stopped and nothing is switched.
  - B(Commit.) Installs the units stored with the release's config (reloading systemd when one changed),
    points the release's C(config) link at the config, then C(current) at the release with one C(rename(2)),
    C(previous) at the release that was live, and enables the units.
  - B(Handover.) The web process with a socket starts as the instance of C(<name>@.service) that does not run
    (C(blue) or C(green)) beside the one that does; it takes the fds of C(<name>.socket) too, is checked through
    its private socket C(/run/zipapp/<name>.<instance>.sock), and then the old instance stops gracefully
    (requests in flight finish within its C(TimeoutStopSec)). A process with C(overlap) does the same without a
    socket. Other processes restart (stop, then start); so does the web process without a
    handover (C(<name>.service), the role's C(zipapp_handover=false)), checked at O(health_address) afterwards.
  - When a process of the new release does not come up, the instances it started are stopped and (with
    O(rollback_on_failure)) the release and config that were live are put back; a process that never left the
    old release is not touched again.
  - With O(rollback=true) the same switch puts an earlier release back (O(version), default the C(previous)
    link); C(previous) then points at the newest good release, and O(failed_version) is marked failed. With
    O(deactivate=true) nothing is live afterwards (the app's units and links are removed).
  - With O(restart=true) (the handler notified by a task of the user) the live release's processes are handed
    over or restarted even when nothing changed.
  - Prunes releases beyond O(keep) (never the live or previous one) with their shiv caches, and old config
    dirs of the live release. With O(finish) it appends the outcome to the audit log and gives the deploy
    lock back.
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.app
  - containerless.zipapp.app.lock
  - containerless.zipapp.app.lock_take
  - containerless.zipapp.app.health
  - containerless.zipapp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  version:
    description:
      - Version to make live (prepared by M(containerless.zipapp.zipapp_release)).
      - Empty with O(rollback=true) for the C(previous) release, empty otherwise for the live one.
    type: str
    default: ""
  config:
    description: Config dir of the release to make live (C(config.<N>)); defaults to the release's linked config.
    type: str
    default: ""
  plan:
    description: The RV(containerless.zipapp.zipapp_release#module:plan) of the same release and config; without it
      the module plans itself.
    type: dict
  canary:
    description: Check a release and config that never passed a check on this host in a canary first (needs a socket).
    type: bool
    default: true
  health_path:
    description: C(GET) path of the checks (2xx = healthy); empty for O(settle).
    type: str
    default: ""
  health_host:
    description: C(Host) header of the checks.
    type: str
    default: localhost
  health_address:
    description:
      - Where the web process answers when it is restarted rather than handed over; empty for its socket's address.
    type: str
    default: ""
  rollback_on_failure:
    description: When a process of the new release does not come up, put back the release that was live.
    type: bool
    default: true
  keep:
    description: Releases to keep; the live and previous releases are always kept. V(0) prunes nothing.
    type: int
    default: 5
  rollback:
    description: Put an earlier release back (see above).
    type: bool
    default: false
  deactivate:
    description: With O(rollback=true), go back to nothing live (a first deploy whose hook failed after the switch).
    type: bool
    default: false
  restart:
    description: Hand over or restart every process of the release even when nothing changed.
    type: bool
    default: false
  failed_version:
    description: The version to mark failed when this switch fails (or, with O(rollback=true), at once).
    type: str
    default: ""
  reason:
    description: Why O(failed_version) failed, with O(rollback=true) (recorded in its C(release.json)).
    type: str
    default: ""
  finish:
    description: Append the outcome to the audit log and give the deploy lock back at the end, also on failure.
    type: bool
    default: true
  audit:
    description: Fields of the audit line (C(action), C(sha256), ...); C(action) defaults to C(deploy), C(rollback) or
      C(restart).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Make release 1.4.2 live
  containerless.zipapp.zipapp_swap:
    name: demoapp
    version: "1.4.2"
    config: "{{ release.config }}"
    plan: "{{ release.plan }}"
    health_path: /health
    lock_run_id: "{{ release.lock.run_id }}"

- name: Put the previous release back
  containerless.zipapp.zipapp_swap:
    name: demoapp
    rollback: true
    health_path: /health
"""

RETURN = r"""
switched:
  description: Whether C(current) or the release's C(config) link changed (and stayed changed).
  returned: always
  type: bool
rolled_back:
  description: Whether a failed switch put the release that was live back.
  returned: always
  type: bool
live:
  description: The live version afterwards (null when nothing is live).
  returned: always
  type: str
previous:
  description: The version C(previous) points at afterwards.
  returned: always
  type: str
handovers:
  description: The instances started, each with the ones it replaced.
  returned: always
  type: list
  elements: dict
restarted:
  description: Units restarted (stop, then start).
  returned: always
  type: list
  elements: str
canary:
  description: The canary's check (null when none ran).
  returned: always
  type: dict
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
finished:
  description: Whether the outcome is in the audit log and the lock was given back.
  returned: always
  type: bool
seconds:
  description: Seconds each phase took (C(canary), C(commit), C(rollout)).
  returned: always
  type: dict
journal:
  description: The last journal lines of the instance that failed.
  returned: on failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _common
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils._names import check_name, check_version
from ansible_collections.containerless.zipapp.plugins.module_utils._swap import Swap

ARGUMENT_SPEC = _common.argument_spec(
    _common.APP, _common.LOCK, _common.LOCK_TAKE, _common.HEALTH,
    version=dict(type="str", default=""),
    config=dict(type="str", default=""),
    plan=dict(type="dict"),
    canary=dict(type="bool", default=True),
    health_path=dict(type="str", default=""),
    health_host=dict(type="str", default="localhost"),
    health_address=dict(type="str", default=""),
    rollback_on_failure=dict(type="bool", default=True),
    keep=dict(type="int", default=5),
    rollback=dict(type="bool", default=False),
    deactivate=dict(type="bool", default=False),
    restart=dict(type="bool", default=False),
    failed_version=dict(type="str", default=""),
    reason=dict(type="str", default=""),
    finish=dict(type="bool", default=True),
    audit=dict(type="dict", default={}),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    errors = check_name(p["name"], "name")
    for key in ("version", "failed_version"):
        if p[key]:
            errors += check_version(p[key], key)
    if p["config"] and not rel.CONFIG_RE.fullmatch(p["config"]):
        errors.append("config must be config.<N>, got %r" % p["config"])
    if p["keep"] < 0:
        errors.append("keep must not be negative")
    if errors:
        module.fail_json(msg="; ".join(errors))
    Swap(module).main()


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: zipapp_status
short_description: Report what is live of each zipapp on a host, since when, by whom, and how its units run
version_added: 0.1.0
description:
  - For one app (O(name)) or every app under O(root), reports the live version (read from the C(current)
    link), since when and by whom it is live (the audit line of the switch that made it live), the previous
    version, the state of each of its units (the socket, the web instance that runs, the other processes and
    the timers) and the failed releases the host keeps.
  - Changes nothing. The C(containerless.zipapp.status) playbook turns the results of every host into one
    table with the filter P(containerless.zipapp.status_report#filter).
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.attributes.info_module
  - containerless.zipapp.attributes
options:
  name:
    description: The app; without it, every app under O(root). A host without it reports no app.
    type: str
  root:
    description: Root directory of the apps.
    type: path
    default: /opt/zipapp
"""

EXAMPLES = r"""
- name: Read what is live on the host
  containerless.zipapp.zipapp_status:
  register: status
"""

RETURN = r"""
root:
  description: The root that was read.
  returned: always
  type: str
name:
  description: The app asked for (O(name)), or null for every app.
  returned: always
  type: str
apps:
  description: One entry per app.
  returned: always
  type: list
  elements: dict
  contains:
    app:
      description: The app's name.
      type: str
    live:
      description: The live version, or null.
      type: str
    since:
      description: When it went live (UTC, ISO 8601).
      type: str
    by:
      description: Who made it live (C(user@controller) from the audit log, else who deployed the release).
      type: str
    previous:
      description: The version that was live before, or null.
      type: str
    units:
      description: The state (C(ActiveState)) of each unit, by unit name (for example V(active) or V(failed)).
      type: dict
    failed:
      description: The failed releases kept on the host.
      type: list
      elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _status
from ansible_collections.containerless.zipapp.plugins.module_utils import _systemd as sd
from ansible_collections.containerless.zipapp.plugins.module_utils._names import check_name
from ansible_collections.containerless.zipapp.plugins.module_utils._release import Layout


def main():
    module = AnsibleModule(argument_spec=dict(name=dict(type="str"), root=dict(type="path", default="/opt/zipapp")),
                           supports_check_mode=True)
    p = module.params
    if p["name"]:
        errors = check_name(p["name"], "name")
        if errors:
            module.fail_json(msg="; ".join(errors))
    names = _status.app_names(p["root"])
    if p["name"]:
        names = [n for n in names if n == p["name"]]

    def unit_states(units):
        return dict((u, v.get("ActiveState", "unknown")) for u, v in
                    sd.show_many(module.run_command, units, "ActiveState").items())

    apps = []
    for name in names:
        layout = Layout(p["root"], name)
        try:
            apps.append(_status.app_status(layout, unit_states))
        except (OSError, RuntimeError) as e:
            module.fail_json(msg="could not read the status of %s: %s" % (name, e))
    module.exit_json(changed=False, root=p["root"], name=p["name"], apps=apps)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for zipapp_validate: check the role's variables on the controller, before any host changes."""

import glob
import os

import yaml

from ansible.plugins.action import ActionBase

from ansible_collections.containerless.zipapp.plugins.plugin_utils import (
    _validate_deploy,
    _validate_publish,
    _validate_python,
)
from ansible_collections.containerless.zipapp.plugins.plugin_utils._checks import unknown_variables

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where PyYAML has it
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Variables read by the collection's playbooks rather than by a role.
PLAYBOOK_VARIABLES = frozenset(["zipapp_hosts", "zipapp_serial", "zipapp_max_fail_percentage", "zipapp_status_format",
                                "zipapp_status_file"])
# Facts the collection's roles set for the roles after them.
ROLE_FACTS = frozenset(["zipapp_python_executable"])
# checks: <entry point> -> what it checks
ENTRY_POINTS = dict(_validate_deploy.ENTRY_POINTS, **_validate_publish.ENTRY_POINTS, **_validate_python.ENTRY_POINTS)


def collection_variables(root=COLLECTION_ROOT):
    """Every option of every entry point of every role of the collection, plus the playbooks' variables."""
    names = set(PLAYBOOK_VARIABLES) | ROLE_FACTS
    for spec_file in glob.glob(os.path.join(root, "roles", "*", "meta", "argument_specs.yml")):
        with open(spec_file) as f:
            specs = (yaml.load(f, Loader=SAFE_LOADER) or {}).get("argument_specs") or {}
        for entry in specs.values():
            names.update((entry.get("options") or {}).keys())
    return names


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("checks",))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        checks_name = self._task.args.get("checks", "deploy")
        entry = ENTRY_POINTS.get(checks_name)
        if entry is None:
            result.update(failed=True, msg="checks must be one of %s" % ", ".join(sorted(ENTRY_POINTS)))
            return result
        values = {}
        for var in entry.variables():
            if var in task_vars:
                values[var] = self._templar.template(task_vars[var])
        errors = entry.errors(values)
        errors.extend(unknown_variables([k for k in task_vars if k.startswith("zipapp_")], collection_variables()))
        result["changed"] = False
        if errors:
            result["failed"] = True
            result["errors"] = errors
            result["msg"] = "Invalid input, nothing was changed:\n - " + "\n - ".join(errors)
        else:
            result["msg"] = "%d variables checked" % len(values)
        return result

# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for zipapp_validate: check the role's variables on the controller, before any host changes."""

import glob
import os

import yaml

from ansible.plugins.action import ActionBase

from ansible_collections.containerless.zipapp.plugins.module_utils._validate import (
    ENTRY_POINT_CHECKS,
    TOGETHER_CHECKS,
    TOGETHER_VARIABLES,
    check_values,
    unknown_variables,
)

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where PyYAML has it
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Variables read by the collection's playbooks rather than by a role.
PLAYBOOK_VARIABLES = frozenset(["zipapp_hosts", "zipapp_serial", "zipapp_max_fail_percentage", "zipapp_status_format",
                                "zipapp_status_file"])
# Facts the collection's roles set for the roles after them.
ROLE_FACTS = frozenset(["zipapp_python_executable"])


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
        checks = ENTRY_POINT_CHECKS.get(checks_name)
        if checks is None:
            result.update(failed=True, msg="checks must be one of %s" % ", ".join(sorted(ENTRY_POINT_CHECKS)))
            return result
        values = {}
        for var in set(checks) | TOGETHER_VARIABLES:
            if var in task_vars:
                values[var] = self._templar.template(task_vars[var])
        errors = check_values(values, checks, TOGETHER_CHECKS.get(checks_name))
        errors.extend(unknown_variables([k for k in task_vars if k.startswith("zipapp_")], collection_variables()))
        result["changed"] = False
        if errors:
            result["failed"] = True
            result["errors"] = errors
            result["msg"] = "Invalid input, nothing was changed:\n - " + "\n - ".join(errors)
        else:
            result["msg"] = "%d variables checked" % len(values)
        return result

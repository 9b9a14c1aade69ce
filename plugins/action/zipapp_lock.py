# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for zipapp_lock: who this run is, and breaking a lock whose owner on this controller is gone."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.containerless.zipapp.plugins.plugin_utils._lock_owner import current_owner, is_dead

MODULE = "containerless.zipapp.zipapp_lock"


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        if args.get("state", "acquired") == "acquired":
            args["owner"] = current_owner(args.get("version"))
        outcome = self._execute_module(module_name=MODULE, module_args=dict(args), task_vars=task_vars)
        if outcome.get("locked") and is_dead(outcome.get("lock_held_by")):
            args["dead_owner"] = outcome["lock_held_by"].get("run_id")
            outcome = self._execute_module(module_name=MODULE, module_args=dict(args), task_vars=task_vars)
        result.update(outcome)
        return result

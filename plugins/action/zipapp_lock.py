# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for zipapp_lock: who this run is, and breaking a lock whose owner on this controller is gone."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.containerless.zipapp.plugins.plugin_utils._lock_owner import run_locked

MODULE = "containerless.zipapp.zipapp_lock"


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)

        def execute(module_args):
            return self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)

        if args.get("state", "acquired") == "acquired":
            result.update(run_locked(execute, args, args.get("version")))
        else:
            result.update(execute(args))
        return result

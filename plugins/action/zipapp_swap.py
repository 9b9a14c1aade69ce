# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for zipapp_swap: outside a deploy (a rollback, a restart) it takes the deploy lock for this run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.containerless.zipapp.plugins.plugin_utils._lock_owner import run_locked

MODULE = "containerless.zipapp.zipapp_swap"


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)

        def execute(module_args):
            return self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)

        result.update(execute(args) if args.get("lock_run_id") else run_locked(execute, args, args.get("version")))
        return result

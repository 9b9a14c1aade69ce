# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for zipapp_swap: outside a deploy (a rollback, a restart) it takes the deploy lock for this run."""

from ansible_collections.containerless.zipapp.plugins.plugin_utils._lock_owner import LockingAction


class ActionModule(LockingAction):
    MODULE = "containerless.zipapp.zipapp_swap"

    def takes_lock(self, args):
        return not args.get("lock_run_id")  # a step of a deploy works under the deploy's lock

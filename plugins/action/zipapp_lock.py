# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for zipapp_lock: who this run is, and breaking a lock whose owner on this controller is gone."""

from ansible_collections.containerless.zipapp.plugins.plugin_utils._lock_owner import LockingAction


class ActionModule(LockingAction):
    MODULE = "containerless.zipapp.zipapp_lock"

    def takes_lock(self, args):
        return args.get("state", "acquired") == "acquired"

# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for zipapp_artifact: with download_on=controller, download once on the controller."""

from ansible_collections.containerless.zipapp.plugins.plugin_utils._controller_download import (
    ControllerDownloadAction,
)


class ActionModule(ControllerDownloadAction):
    MODULE = "containerless.zipapp.zipapp_artifact"

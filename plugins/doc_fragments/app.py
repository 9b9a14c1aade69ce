# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Which app on the host: every module that works on an app's release tree.
    DOCUMENTATION = r"""
options:
  name:
    description: Name of the app (its directory under O(root), its units and its dynamic user).
    type: str
    required: true
  root:
    description: Root directory of the apps; the app lives in C(<root>/<name>/).
    type: path
    default: /opt/zipapp
"""

    # Steps of a deploy that run under the run lock zipapp_release or zipapp_lock took.
    LOCK = r"""
options:
  lock_run_id:
    description:
      - The run that holds the app's deploy lock; the module refuses to change anything for another one.
    type: str
"""

    # The health checks of the canary and of the live service.
    HEALTH = r"""
options:
  timeout:
    description: Seconds per request.
    type: float
    default: 5
  retries:
    description: Requests after the first one.
    type: int
    default: 30
  delay:
    description: Seconds between requests.
    type: float
    default: 1
  settle:
    description: Seconds the instance must stay up when there is no health path.
    type: float
    default: 3
"""

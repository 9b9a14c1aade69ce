# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # The attributes most modules share, next to ansible.builtin's action_common_attributes (which describes
    # them); a module still states what is its own (check_mode and diff_mode support, with details).
    DOCUMENTATION = r"""
options: {}
attributes:
  platform:
    platforms: posix
"""

    # A module that only reports: it changes nothing, so check mode is the same run and there is no diff.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: The module changes nothing; it runs the same in check mode.
  diff_mode:
    support: N/A
    details: The module changes nothing.
"""

    # A module with an action plugin in front of it (on the controller, once per host).
    ACTION = r"""
options: {}
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
"""

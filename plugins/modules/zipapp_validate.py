#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: zipapp_validate
short_description: Check the variables of a containerless.zipapp role before anything changes
version_added: 0.1.0
description:
  - Runs on the controller only. Checks what the roles' argument_specs cannot, namely that strings are really
    strings (an unquoted C(1.10) is a float), names, versions, URLs and checksums match their patterns,
    env keys and values can be carried by systemd, credential ids are valid, and that no unknown
    C(zipapp_*) variable (a typo such as C(zipapp_keep_relases)) is set.
  - Fails with one message per problem, each naming the variable.
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
  - containerless.zipapp.attributes.action
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
options:
  checks:
    description: Which role entry point's variables to check.
    type: str
    choices: [deploy, rollback, exec, publish, python]
    default: deploy
"""

EXAMPLES = r"""
- name: Validate the deploy role's variables
  containerless.zipapp.zipapp_validate:
    checks: deploy
"""

RETURN = r"""
errors:
  description: One message per problem.
  returned: on failure
  type: list
  elements: str
"""

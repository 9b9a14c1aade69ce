# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: status_report
short_description: The fleet's zipapp status as one table, or as data for JSON
version_added: 0.1.0
description:
  - Takes C(hostvars) and the play's hosts, reads the registered result of M(containerless.zipapp.zipapp_status)
    of each host, and returns one row per host and app (host, app, live version, since when, by whom,
    previous version, the state of each unit, the failed releases kept), plus one line for every app whose
    hosts disagree on the live version.
  - A host without a result (unreachable, or its task failed) gets a row that says so.
author:
  - containerless.zipapp maintainers (@containerless)
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts to report, for example C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  format:
    description: V(table) returns the lines of a text table; V(json) returns C({rows, disagreements}).
    type: str
    default: table
    choices: [table, json]
  var:
    description: The name of the registered result.
    type: str
    default: __zipapp_status
"""

EXAMPLES = r"""
- name: Show the fleet
  ansible.builtin.debug:
    msg: "{{ hostvars | containerless.zipapp.status_report(ansible_play_hosts_all) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: The table's lines (V(table)), or C({rows, disagreements}) (V(json)).
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.containerless.zipapp.plugins.module_utils import _status


def status_report(hostvars, hosts, format="table", var="__zipapp_status"):
    if format not in ("table", "json"):
        raise AnsibleFilterError("zipapp_status_format must be table or json, not %r" % (format,))
    results = {}
    for host in hosts:
        try:
            results[host] = hostvars[host].get(var)
        except KeyError:
            results[host] = None
    if format == "json":
        return _status.report(results)
    return _status.table(_status.rows(results))


class FilterModule:
    def filters(self):
        return {"status_report": status_report}

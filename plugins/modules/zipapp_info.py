#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: zipapp_info
short_description: Report what a zipapp bundles and whether an interpreter can run it
version_added: 0.1.0
description:
  - Reads a zipapp on the host (a shiv C(.pyz), a C(.pex) or a plain zipapp, with or without a shebang line) and
    reports its kind, build id, entry point and every bundled distribution with its version, wheel tags and
    C(Requires-Python).
  - With O(python), checks whether that interpreter can run the zipapp before it is deployed. A shiv or pex
    with compiled wheels runs only on the Python minor version, ABI and platform its wheels were built for;
    on another one it fails late, at import time, with C(ModuleNotFoundError). The module runs a small probe
    with the interpreter (C(-I -S), Python 3.6 or later), computes the wheel tags it supports (manylinux,
    musllinux, abi3 and pure tags, as pip does; CPython and PyPy on Linux) and checks every distribution's
    tags and C(Requires-Python), and a pex's interpreter constraints, against it.
  - A distribution installed without a WHEEL file (from an sdist) counts as pure Python when it installed no
    compiled files; otherwise its tags are unknown and it is reported as a problem.
  - Changes nothing.
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.attributes.info_module
attributes:
  platform:
    platforms: posix
    details: The tags of interpreters on Linux are computed fully; elsewhere only their own platform tag is known.
options:
  path:
    description: The zipapp on the host.
    type: path
    required: true
  python:
    description:
      - Interpreter to check the zipapp against, a path or a command name looked up in C(PATH).
      - Without it the module only describes the zipapp.
    type: path
  fail_on_incompatible:
    description:
      - Fail when O(python) cannot run the zipapp, with a message that names the interpreter and every
        offending distribution. Needs O(python).
    type: bool
    default: false
seealso:
  - module: containerless.zipapp.zipapp_release
"""

EXAMPLES = r"""
- name: Refuse a pyz that the host's interpreter cannot run (before anything goes live)
  containerless.zipapp.zipapp_info:
    path: /opt/zipapp/demoapp/releases/1.4.2/demoapp.pyz
    python: /usr/bin/python3
    fail_on_incompatible: true

- name: Describe a zipapp and check it against another interpreter
  containerless.zipapp.zipapp_info:
    path: /srv/artifacts/demoapp-1.4.2.pyz
    python: python3.13
  register: demoapp_info

- name: Show the problems
  ansible.builtin.debug:
    msg: "{{ demoapp_info.problems }}"
  when: not demoapp_info.compatible
"""

RETURN = r"""
kind:
  description: V(shiv), V(pex) or V(zipapp) (a plain zipapp with a C(__main__.py)).
  returned: always
  type: str
  sample: shiv
build_id:
  description: The shiv build id, or a pex's C(pex_hash) (C(code_hash) when it has none); null for a plain zipapp.
  returned: always
  type: str
entry_point:
  description: The entry point (C(module:function)), or C(__main__.py) for a plain zipapp.
  returned: always
  type: str
  sample: demoapp.__main__:main
shebang:
  description: The shebang line without C(#!), or null.
  returned: always
  type: str
  sample: /usr/bin/env python3
interpreter_constraints:
  description: A pex's interpreter constraints (any one of them must hold); empty for other kinds.
  returned: always
  type: list
  elements: str
distributions:
  description: Every distribution the zipapp bundles.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The project name.
      type: str
    version:
      description: The version.
      type: str
    tags:
      description: The wheel tags it was built for (expanded), or null when unknown (see RV(distributions[].tags_unknown)).
      type: list
      elements: str
      sample: [cp311-cp311-manylinux_2_17_x86_64, cp311-cp311-manylinux2014_x86_64]
    tags_unknown:
      description: Why the tags are unknown.
      type: str
      returned: when the tags are unknown
    assumed_pure:
      description: Installed without a WHEEL file and without compiled files, so taken as V(py3-none-any).
      type: bool
      returned: when it was installed without a WHEEL file and has no compiled files
    compiled:
      description: The compiled files of a distribution installed without a WHEEL file.
      type: list
      elements: str
      returned: when it was installed without a WHEEL file and has compiled files
    requires_python:
      description: Its C(Requires-Python), or null.
      type: str
    source:
      description: Where in the archive it was found.
      type: str
      sample: site-packages/orjson-3.10.18.dist-info
interpreter:
  description: The interpreter named in O(python).
  returned: when O(python) is given
  type: dict
  contains:
    executable:
      description: Its C(sys.executable).
      type: str
    implementation:
      description: V(CPython), V(PyPy), ...
      type: str
    version:
      description: Its version.
      type: str
      sample: 3.13.5
    platform:
      description: Its most specific platform tag.
      type: str
      sample: linux_x86_64
    libc:
      description: Its C library and version (Linux), or null.
      type: str
      sample: glibc 2.41
    abi:
      description: Its ABI tag.
      type: str
      sample: cp313
    best_tag:
      description: The most specific wheel tag it supports.
      type: str
    tag_count:
      description: How many wheel tags it supports.
      type: int
    platforms:
      description: Every platform tag it supports, most specific first.
      type: list
      elements: str
compatible:
  description: Whether the interpreter can run everything the zipapp bundles.
  returned: when O(python) is given
  type: bool
problems:
  description: Why not; one sentence per problem, each naming the distribution (or the pex's constraints).
  returned: when O(python) is given
  type: list
  elements: str
  sample:
    - "orjson 3.10.18 has only cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64 wheels, none of which
      CPython 3.13.5 (linux_x86_64, glibc 2.41; it needs e.g. cp313-cp313-manylinux_2_41_x86_64) can load"
checked:
  description: Per project, whether the interpreter can load it and the best wheel tag that matched.
  returned: when O(python) is given
  type: list
  elements: dict
  contains:
    name:
      description: The project name.
      type: str
    version:
      description: The version (a pex may bundle several wheels of one project).
      type: str
    compatible:
      description: Whether it fits.
      type: bool
    tag:
      description: The most specific supported tag among its tags, or null.
      type: str
    problems:
      description: Why it does not fit.
      type: list
      elements: str
      returned: when it does not fit
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import (
    _archive,
    _compatibility,
    _interpreter,
    _tags,
)


def probe_interpreter(module, python):
    """Run the probe with ``python``; fail the module with a clear message when that is impossible."""
    if "/" not in python:
        python = module.get_bin_path(python, required=True)
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        module.fail_json(msg="python=%s is not an executable file on this host" % python)
    rc, out, err = module.run_command(_interpreter.probe_command(python))
    if rc != 0:
        module.fail_json(msg="the interpreter probe failed with %s (rc=%d): %s" % (python, rc, (err or out).strip()[-2000:]))
    try:
        return python, _interpreter.parse_probe(out)
    except _archive.ZipappInfoError as e:
        module.fail_json(msg="%s: %s" % (python, e))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            python=dict(type="path"),
            fail_on_incompatible=dict(type="bool", default=False),
        ),
        required_if=[("fail_on_incompatible", True, ("python",))],
        supports_check_mode=True,
    )
    p = module.params
    if not os.path.isfile(p["path"]):
        module.fail_json(msg="%s does not exist or is not a file" % p["path"])
    try:
        info = _archive.inspect_archive(p["path"])
    except _archive.ZipappInfoError as e:
        module.fail_json(msg=str(e))
    result = dict(changed=False)
    result.update((k, info.get(k)) for k in ("kind", "build_id", "entry_point", "shebang",
                                             "interpreter_constraints", "distributions"))
    if p["python"]:
        python, probe = probe_interpreter(module, p["python"])
        tags = _tags.supported_tags(probe)
        verdict = _compatibility.check(info, probe, tags)
        result.update(interpreter=_interpreter.describe_interpreter(probe, tags), compatible=verdict["compatible"],
                      problems=verdict["problems"], checked=verdict["distributions"])
        if p["fail_on_incompatible"] and not verdict["compatible"]:
            result["msg"] = "%s cannot run on %s (%s): %s" % (
                os.path.basename(p["path"]), python, _interpreter.interpreter_label(probe), "; ".join(verdict["problems"]))
            module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

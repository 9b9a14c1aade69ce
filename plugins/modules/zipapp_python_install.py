#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: zipapp_python_install
short_description: Install a python-build-standalone tarball as one directory per version, atomically
version_added: 0.1.0
description:
  - Makes O(dest) a working CPython O(version) from the C(install_only) tarball O(src) of
    L(python-build-standalone,https://github.com/astral-sh/python-build-standalone) (layout
    C(python/bin/python3.X), C(python/lib/python3.X/)).
  - The tarball is extracted into a temporary directory next to O(dest). Every member must stay inside
    C(python/) (no absolute paths, no C(..), no links pointing out, no devices); owners and modes of the
    tarball are not used. Directories get C(0755), files C(0755) when they were executable in the tarball
    and C(0644) otherwise, so every user can run the interpreter whatever the umask.
  - The interpreter is then started in isolated mode, as O(check_as) when the module runs as root. It must
    import O(imports) and print O(version). Only then is the tree renamed to O(dest) in one C(rename(2)).
    On any failure the temporary directory is removed; O(dest) either does not exist or is complete.
  - An existing O(dest) is never modified. It is checked the same way (it must be a working Python
    O(version)) and reported with RV(installed=true) and C(changed=false).
  - Without O(src) the module only reports whether O(dest) holds a working Python O(version); use it to skip
    the download of a version that is already installed.
  - Download and verify O(src) first with M(containerless.zipapp.zipapp_artifact).
  - With O(executable) instead of O(dest), the module checks an interpreter installed by other means (the
    distribution's packages) the same way, and changes nothing.
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.attributes
attributes:
  check_mode:
    support: full
    details: In check mode nothing is extracted; an absent O(dest) is reported as a change.
  diff_mode:
    support: none
options:
  dest:
    description:
      - Absolute path of the install, by convention C(<prefix>/<version>). The interpreter is
        C(<dest>/bin/python3.X).
      - Exactly one of O(dest) and O(executable) is required.
    type: path
  executable:
    description:
      - Absolute path of an interpreter installed by other means, for example C(/usr/bin/python3.11), to check
        as an install is checked (run as O(check_as), import O(imports), report O(version)). Nothing is changed.
      - With O(executable), O(version) may also be a minor version such as C(3.11), which admits any C(3.11.x).
    type: path
  version:
    description:
      - The full CPython version the tarball holds, for example C(3.13.5) or C(3.14.0rc1). The installed
        interpreter must report exactly this version.
      - With O(executable), a minor version such as C(3.11) is enough.
    type: str
    required: true
  src:
    description:
      - Path on the host of the verified C(install_only) tarball, compressed with gzip (as published),
        bzip2 or xz. C(.tar.zst) is not supported.
      - Omit it to only report whether O(dest) is installed.
    type: path
  remove_src:
    description:
      - Remove O(src) once the module is done with it, whether the install succeeded or failed.
    type: bool
    default: false
  imports:
    description:
      - Modules the interpreter must import for the install to count as working.
    type: list
    elements: str
    default: [ssl, sqlite3, zlib, ctypes, json]
  check_as:
    description:
      - User that runs the check when the module runs as root, so a tree that only root could read fails
        here instead of in the service. An empty string checks as the module's own user.
    type: str
    default: nobody
notes:
  - The installed tree is owned by the user the module runs as (root with C(become)).
  - Nothing is ever removed from an install; remove a version you no longer need with M(ansible.builtin.file).
seealso:
  - module: containerless.zipapp.zipapp_artifact
"""

EXAMPLES = r"""
- name: Look for Python 3.13.5
  containerless.zipapp.zipapp_python_install:
    dest: /opt/python/3.13.5
    version: "3.13.5"
  register: python_3135

- name: Download and verify Python 3.13.5
  containerless.zipapp.zipapp_artifact:
    url: https://mirror.example.com/python/cpython-3.13.5+20250723-x86_64-unknown-linux-gnu-install_only.tar.gz
    checksum: sha256:https://mirror.example.com/python/SHA256SUMS
    dest: /opt/python/.cpython-3.13.5.tar.gz
    mode: "0600"
  when: not python_3135.installed

- name: Check the distribution's Python 3.11 as an install is checked
  containerless.zipapp.zipapp_python_install:
    executable: /usr/bin/python3.11
    version: "3.11"
- name: Install Python 3.13.5
  containerless.zipapp.zipapp_python_install:
    src: /opt/python/.cpython-3.13.5.tar.gz
    dest: /opt/python/3.13.5
    version: "3.13.5"
    remove_src: true
  when: not python_3135.installed
"""

RETURN = r"""
dest:
  description: The install directory.
  returned: when O(dest) is given
  type: str
  sample: /opt/python/3.13.5
executable:
  description: Absolute path of the interpreter (present once installed; in check mode, where it would be).
  returned: always
  type: str
  sample: /opt/python/3.13.5/bin/python3.13
installed:
  description:
    - Whether O(dest) held a working Python O(version) before the module ran.
    - With O(executable), whether it passed its check (always true when the module succeeds).
  returned: always
  type: bool
version:
  description: The version the interpreter reported (the requested one when nothing could run yet).
  returned: always
  type: str
  sample: 3.13.5
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils._python_install import (
    DEFAULT_IMPORTS,
    PythonInstallError,
    check_executable,
    check_imports,
    executable_path,
    install,
    probe,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path"),
            executable=dict(type="path"),
            version=dict(type="str", required=True),
            src=dict(type="path"),
            remove_src=dict(type="bool", default=False),
            imports=dict(type="list", elements="str", default=list(DEFAULT_IMPORTS)),
            check_as=dict(type="str", default="nobody"),
        ),
        required_one_of=[("dest", "executable")],
        mutually_exclusive=[("dest", "executable"), ("src", "executable")],
        supports_check_mode=True,
    )
    p = module.params
    if p["executable"]:
        check(module)
    dest = p["dest"].rstrip("/") or "/"
    result = dict(changed=False, dest=dest, version=p["version"], installed=False)
    try:
        if not os.path.isabs(dest) or dest == "/":
            raise PythonInstallError("dest must be an absolute path other than /, got %r" % p["dest"])
        check_imports(p["imports"])
        result["executable"] = executable_path(dest, p["version"])
        exe = probe(dest, p["version"], p["imports"], p["check_as"])
        if exe:
            result["installed"] = True
            module.exit_json(**result)
        if not p["src"]:
            module.exit_json(**result)
        result["changed"] = True
        if module.check_mode:
            module.exit_json(**result)
        if not os.path.isfile(p["src"]):
            raise PythonInstallError("src %s is not a file" % p["src"])
        try:
            install(p["src"], dest, p["version"], p["imports"], p["check_as"])
        finally:
            if p["remove_src"] and os.path.isfile(p["src"]):
                os.unlink(p["src"])
    except PythonInstallError as e:
        result["changed"] = False
        module.fail_json(msg="%s; %s was not changed" % (e, dest), **result)
    module.exit_json(**result)


def check(module):
    """Check an interpreter installed by other means; changes nothing."""
    p = module.params
    result = dict(changed=False, executable=p["executable"], version=p["version"], installed=False)
    try:
        check_imports(p["imports"])
        result["version"] = check_executable(p["executable"], p["version"], p["imports"], p["check_as"])
    except PythonInstallError as e:
        module.fail_json(msg="%s; nothing was changed" % e, **result)
    result["installed"] = True
    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: zipapp_build
short_description: Build a shiv zipapp reproducibly
version_added: 0.1.0
description:
  - Builds O(dest)/C(<name>-<version>.pyz) from the Python project in O(project) with
    L(shiv,https://shiv.readthedocs.io/) C(--reproducible), in a build venv it creates under O(build_dir) with
    exactly C(pip==)O(pip_version) and C(shiv==)O(shiv_version) from the package index.
  - Two builds of the same source and version are byte-identical. C(SOURCE_DATE_EPOCH) is O(source_date_epoch)
    or the time of the last git commit that touched O(project); the project is copied (without C(build/),
    C(*.egg-info), C(__pycache__), C(.git), ...) to a fixed staging path under O(build_dir) with normalised
    file modes, because pip records the path of a local project in C(direct_url.json) and the build venv's
    interpreter in the shebang of console scripts; the build runs with umask 022.
  - O(requirements) must pin every requirement exactly (C(name==version), as a lock file from pip-compile,
    C(uv pip compile) or C(pip freeze) does; C(--hash) lines are fine). After the build every distribution in
    the zipapp except the project itself must be pinned there, else the build fails.
  - An existing O(dest)/C(<name>-<version>.pyz) with the same content is left alone (C(changed=false)); one
    with other content is replaced (the publish step, M(containerless.zipapp.zipapp_publish), is where a
    version becomes immutable).
  - O(layout) - a V(package) (C(pyproject.toml) or C(setup.py), with O(entry_point) or O(console_script)) is
    installed by shiv's pip. A V(django) project as C(django-admin startproject) lays it out (C(manage.py) at the
    root, C(templates/) and C(static/) beside the packages) and a plain V(wsgi) app (O(wsgi_app), e.g. Flask's
    C(app:app)) need neither a C(pyproject.toml) nor an entry point - the project directory is mirrored into the
    root of the zipapp's C(site-packages) (so C(BASE_DIR = Path(__file__).resolve().parent.parent) is
    site-packages and C(BASE_DIR / "templates") resolves as in development), pip installs the pinned
    requirements there (C(--target)), C(collectstatic --noinput) runs there when the settings define
    C(STATIC_ROOT), and O(launcher) becomes the entry point (C(serve), C(manage), C(version)).
  - A failed build shows the interpreter it used and the last lines of pip's and shiv's own output; a requirement
    that is on the index only as an sdist, refused by C(--only-binary), is named with the arguments that allow it.
  - O(target_python) checks the zipapp against the hosts' CPython (wheel tags of compiled extensions,
    C(Requires-Python)) as the deploy role would on the host, and refuses it before it is placed.
  - Runs where the task runs; the C(containerless.zipapp.publish) role runs it on the controller.
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.attributes
attributes:
  check_mode:
    support: partial
    details: Builds nothing; reports C(changed) when the artifact does not exist yet (a rebuild of an existing
      one cannot be predicted without building).
  diff_mode:
    support: none
options:
  project:
    description:
      - Directory of the Python project - a package (C(pyproject.toml) or C(setup.py)), a Django project
        (C(manage.py)) or a plain WSGI app, see O(layout).
    type: path
    required: true
  version:
    description:
      - Version of the artifact, in its file name C(<name>-<version>.pyz).
      - Must match C(^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$) without C(..).
    type: str
    required: true
  dest:
    description: Directory where the artifact is placed (created with mode C(0755) when missing).
    type: path
    required: true
  name:
    description: Name of the artifact; default the base name of O(project).
    type: str
  version_file:
    description:
      - A C(.py) file of the project, relative to O(project), that the staging copy gets as
        C(VERSION = "<version>") (and C(__version__)), for projects whose version is read from it
        (for example C([tool.setuptools.dynamic] version = {attr = "demoapp._version.VERSION"})).
      - Empty or unset - the project carries its version itself.
    type: str
  requirements:
    description:
      - Pinned requirements file (a lock file), relative to O(project) or absolute. Empty - none (the project
        has no dependencies).
    type: str
    default: requirements.txt
  entry_point:
    description: Entry point C(module:function) of the zipapp (shiv C(-e)). One of O(entry_point) and O(console_script).
    type: str
  console_script:
    description: Console script of the project to run (shiv C(-c)). One of O(entry_point) and O(console_script).
    type: str
  interpreter:
    description: The zipapp's shebang line (shiv C(-p)).
    type: str
    default: /usr/bin/env python3
  compressed:
    description: Compress the archive (shiv C(--compressed)).
    type: bool
    default: true
  compile_pyc:
    description: Let the zipapp compile its bytecode when it first unpacks (shiv C(--compile-pyc)).
    type: bool
    default: false
  python:
    description: Interpreter of the build venv, a path or a command name; it decides which wheels pip picks.
    type: str
    default: python3
  pip_version:
    description: Exact pip version of the build venv; empty - the one the interpreter bundles.
    type: str
    default: "26.3"
  shiv_version:
    description: Exact shiv version of the build venv.
    type: str
    default: "1.0.8"
  pip_args:
    description: Extra arguments for C(pip install) (through shiv), for example C(--index-url) or C(--find-links).
    type: list
    elements: str
    default: ["--only-binary=:all:"]
  shiv_args:
    description: Extra arguments for shiv, for example C(--no-modify).
    type: list
    elements: str
    default: []
  source_date_epoch:
    description:
      - Time stamp of every file in the archive (seconds since 1970, not before 1980).
      - Unset or empty - the commit time of the last git commit touching O(project) (a warning says when the
        project has uncommitted changes).
    type: str
  build_dir:
    description:
      - Directory of the build venv, the staging copy and the lock; one build at a time per directory.
      - Builds are byte-identical for the same O(build_dir) (its path ends up in C(bin/) shebangs).
    type: path
    default: ~/.cache/containerless.zipapp/build
  mode:
    description: Mode of the artifact.
    type: raw
    default: "0644"
  layout:
    description:
      - V(package) - the project is a package with its own entry point (O(entry_point) or O(console_script)).
      - V(django) - a Django project laid out by C(django-admin startproject); needs no C(pyproject.toml).
      - V(wsgi) - a plain WSGI app, O(wsgi_app).
      - V(auto) - V(package) when the project has C(pyproject.toml) or C(setup.py), else V(django) when it has
        C(manage.py), else V(wsgi) when O(wsgi_app) is set.
    type: str
    choices: [auto, package, django, wsgi]
    default: auto
  django_settings:
    description: Settings module of a V(django) project; default the C(DJANGO_SETTINGS_MODULE) that C(manage.py) sets.
    type: str
  wsgi_app:
    description: C(module:attribute) of a V(wsgi) app, for example C(app:app).
    type: str
  server:
    description: Server of the launcher's C(serve) (V(django), V(wsgi)); it must be pinned in O(requirements).
    type: str
    choices: [gunicorn, pyuwsgi]
    default: gunicorn
  collectstatic:
    description: Run C(collectstatic --noinput) at build time when the settings define C(STATIC_ROOT) (V(django)).
    type: bool
    default: true
  build_env:
    description: Environment of the build-time Django commands (settings that read the environment). Never logged.
    type: dict
    default: {}
  build_commands:
    description:
      - Management commands to run at build time after C(collectstatic) (V(django)), each a list of arguments after
        C(manage), for example V([[compress]]) (django-compressor's offline manifest) or V([[compilemessages]]). They
        run on the project as it ships, with O(build_env); what they write into it ships in the zipapp.
    type: list
    elements: list
    default: []
  exclude:
    description:
      - Glob patterns of project paths not to ship (V(django), V(wsgi)), matched against the path relative to the
        project, or against the name when they have no C(/); a trailing C(/) matches directories only.
      - Left out always - VCS directories, virtual environments, C(__pycache__), C(*.pyc), C(node_modules),
        C(db.sqlite3), C(.env) files, C(media/), C(build/) and C(dist/) at the top, and the old content of
        C(STATIC_ROOT) when C(collectstatic) runs.
    type: list
    elements: str
    default: []
  target_python:
    description:
      - The hosts' CPython versions (V(3.13), V(3.11.2)); a zipapp that one of them cannot run (wheel tags of
        compiled extensions, C(Requires-Python)) fails the build. A minor version stands for its oldest patch
        release. The platform is the build interpreter's.
    type: list
    elements: str
    default: []
  launcher:
    description: The launcher file of the V(django) and V(wsgi) layouts (the publish role's C(files/zipapp_launcher.py)).
    type: path
  place:
    description:
      - Place the artifact into O(dest). V(false) - leave it in C(<build_dir>/out) (returned as RV(path), the place
        it belongs as RV(dest_path)) for a later step to place, as the publish role does after publishing;
        C(changed) says whether the copy in O(dest) would change.
    type: bool
    default: true
notes:
  - pip uses its usual configuration (C(PIP_INDEX_URL), C(pip.conf)) and cache; offline builds work with
    O(pip_args) C([--no-index, --find-links, /path/to/wheels]) when that directory also has pip, shiv and the
    project's build backend.
seealso:
  - module: containerless.zipapp.zipapp_publish
  - module: containerless.zipapp.zipapp_info
"""

EXAMPLES = r"""
- name: Build demoapp 1.4.2
  containerless.zipapp.zipapp_build:
    project: "{{ playbook_dir }}/../examples/demoapp"
    version: "1.4.2"
    version_file: demoapp/_version.py
    entry_point: demoapp.__main__:main
    dest: "{{ playbook_dir }}/dist"
  delegate_to: localhost
  run_once: true
  register: demoapp_build

- name: Show the sha256
  ansible.builtin.debug:
    msg: "{{ demoapp_build.file_name }} {{ demoapp_build.sha256 }}"
"""

RETURN = r"""
path:
  description: The artifact (in C(<build_dir>/out) with O(place=false)).
  returned: always
  type: str
  sample: /home/me/dist/demoapp-1.4.2.pyz
dest_path:
  description: Where the artifact is placed in O(dest).
  returned: always
  type: str
layout:
  description: The layout the project was built as (V(package), V(django), V(wsgi)).
  returned: always
  type: str
python:
  description: The build interpreter and its version.
  returned: when built
  type: str
collectstatic:
  description: The last line of C(collectstatic) at build time, or null when it did not run.
  returned: when built as V(django) or V(wsgi)
  type: str
file_name:
  description: Its file name.
  returned: always
  type: str
  sample: demoapp-1.4.2.pyz
sha256:
  description: Its sha256 (hex); in check mode that of the existing file, or null.
  returned: always
  type: str
size:
  description: Its size in bytes.
  returned: when built
  type: int
previous_sha256:
  description: The sha256 of the file it replaced, or null.
  returned: when built
  type: str
source_date_epoch:
  description: The time stamp of the files in the archive.
  returned: always
  type: int
distributions:
  description: The distributions in the zipapp, C(name==version).
  returned: when built
  type: list
  elements: str
command:
  description: The shiv command line.
  returned: when built
  type: list
  elements: str
venv_created:
  description: Whether the build venv was (re)created.
  returned: when built
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _fs
from ansible_collections.containerless.zipapp.plugins.module_utils._build import (
    PIP_VERSION,
    SHIV_VERSION,
    BuildError,
    build,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project=dict(type="path", required=True),
            version=dict(type="str", required=True),
            dest=dict(type="path", required=True),
            name=dict(type="str"),
            version_file=dict(type="str"),
            requirements=dict(type="str", default="requirements.txt"),
            entry_point=dict(type="str"),
            console_script=dict(type="str"),
            interpreter=dict(type="str", default="/usr/bin/env python3"),
            compressed=dict(type="bool", default=True),
            compile_pyc=dict(type="bool", default=False),
            python=dict(type="str", default="python3"),
            pip_version=dict(type="str", default=PIP_VERSION),
            shiv_version=dict(type="str", default=SHIV_VERSION),
            pip_args=dict(type="list", elements="str", default=["--only-binary=:all:"]),
            shiv_args=dict(type="list", elements="str", default=[]),
            source_date_epoch=dict(type="str"),
            build_dir=dict(type="path", default="~/.cache/containerless.zipapp/build"),
            mode=dict(type="raw", default="0644"),
            layout=dict(type="str", default="auto", choices=["auto", "package", "django", "wsgi"]),
            django_settings=dict(type="str"),
            wsgi_app=dict(type="str"),
            server=dict(type="str", default="gunicorn", choices=["gunicorn", "pyuwsgi"]),
            collectstatic=dict(type="bool", default=True),
            build_env=dict(type="dict", default={}, no_log=True),
            build_commands=dict(type="list", elements="list", default=[]),
            exclude=dict(type="list", elements="str", default=[]),
            target_python=dict(type="list", elements="str", default=[]),
            launcher=dict(type="path"),
            place=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    mode = _fs.file_mode(module, "mode")
    python = p["python"]
    if "/" not in python:
        python = module.get_bin_path(python, required=True)

    def run(argv, cwd, env):
        return module.run_command(argv, cwd=cwd, environ_update=env or {}, umask=0o022)

    try:
        result = build(
            p["project"], p["version"], p["dest"], p["build_dir"], run, name=p["name"],
            requirements=p["requirements"], version_file=p["version_file"], entry_point=p["entry_point"],
            console_script=p["console_script"], interpreter=p["interpreter"], compressed=p["compressed"],
            compile_pyc=p["compile_pyc"], python=python, pip_version=p["pip_version"],
            shiv_version=p["shiv_version"], pip_args=p["pip_args"], shiv_args=p["shiv_args"],
            source_date_epoch=p["source_date_epoch"], mode=mode, check_mode=module.check_mode,
            layout=p["layout"], django_settings=p["django_settings"], wsgi_app=p["wsgi_app"], server=p["server"],
            collectstatic=p["collectstatic"], django_env={k: str(v) for k, v in p["build_env"].items()},
            exclude=p["exclude"], target_python=p["target_python"], launcher=p["launcher"], place_artifact=p["place"],
            build_commands=[[str(a) for a in c] for c in p["build_commands"]],
        )
    except BuildError as e:
        module.fail_json(msg="%s (nothing was changed in %s)" % (e, os.path.abspath(p["dest"])))
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

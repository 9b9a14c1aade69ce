# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One-off commands in a release's environment: ``<config>/exec`` and the host's ``zipapp-exec``.

This is a private module_utils file: its interface may change without notice.

Every release config holds an ``exec`` script, written with the rest of the config by ``zipapp_release``:
``sh <config>/exec ARGS...`` runs ``<zipapp> ARGS...`` through ``systemd-run`` as a transient service with the
properties of the release's own one-off unit (``_units.service(..., COMMAND)``, the unit its release commands
run in): the same env file, credentials, ``User=<name>`` with ``DynamicUser=yes``, state directory and
sandbox. ``systemd-run --wait`` returns the command's exit status, ``--collect`` leaves no unit behind, and
the command gets a terminal (``--pty``) when the caller has one, else the caller's stdin/stdout/stderr
(``--pipe``), so it works in scripts and pipes.

``zipapp-exec NAME ARGS...`` (``HOST_SCRIPT``, installed in /usr/local/sbin by ``zipapp_release``) runs the
``exec`` of NAME's live release; the ``zipapp_exec`` module runs the same script.
"""

import os
import shlex

from ansible_collections.containerless.zipapp.plugins.module_utils import _units

HOST_SCRIPT_PATH = "/usr/local/sbin/zipapp-exec"
SCRIPT = "exec"

# [Service] settings of the one-off unit that systemd-run sets itself (--service-type, the command) or that
# make no sense for a command someone is waiting for
_DROPPED = frozenset(["Type", "ExecStart", "Restart", "RestartSec", "TimeoutStartSec", "Sockets"])


def service_properties(unit_text):
    """The ``Key=value`` settings of a unit's [Service] section that ``systemd-run -p`` should carry."""
    props, section = [], None
    for line in unit_text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key = line.split("=", 1)[0]
        if section == "Service" and "=" in line and key not in _DROPPED:
            props.append(line)
    return props


_PLACEHOLDER = "@ZIPAPP_CONFIG_DIR@"


def _double_quoted(word):
    """``word`` as one double-quoted shell word, with the config dir placeholder as ``${here}``."""
    for char in '\\"$`':
        word = word.replace(char, "\\" + char)
    return '"%s"' % word.replace(_PLACEHOLDER, "${here}")


def render(app, spec, header):
    """The text of ``<config>/exec``. It finds its config dir itself (the physical directory it is in), so the
    text is the same in every config dir and a config that is not linked yet runs its own env and credentials."""
    unit = _units.service(app, spec, _units.COMMAND, _PLACEHOLDER, exec_args=[])
    words = ["systemd-run", "--quiet", "--wait", "--collect", "--service-type=exec",
             '--unit="%s-exec-$$"' % app.name, "--description=" + shlex.quote("%s (one-off command)" % app.description)]
    words += ["-p " + _double_quoted(prop) for prop in service_properties(unit)]
    words += ['${limit:+-p "$limit"}', '${envfile:+-p "$envfile"}', '"$io"', "/bin/sh", '"${here}/run"', '"$@"']
    lines = ["#!/bin/sh"] + ["# " + line for line in header.splitlines()]
    lines += ["# A one-off command of this release, in its sandbox, as its user: sh <this config>/%s ARGS..." % SCRIPT,
              "# (zipapp-exec %s ARGS... runs it for the live release; the release commands run it before the switch)"
              % app.name,
              "# ZIPAPP_EXEC_TIMEOUT=SECONDS stops the command after that long; ZIPAPP_EXEC_ENV_FILE=PATH adds the",
              "# variables of that EnvironmentFile= (read by systemd, so no value shows in a command line).",
              'here=$(cd "$(dirname "$0")" && pwd -P) || exit 2',
              'if [ -t 0 ] && [ -t 1 ]; then io=--pty; else io=--pipe; fi',
              'limit=${ZIPAPP_EXEC_TIMEOUT:+RuntimeMaxSec=$ZIPAPP_EXEC_TIMEOUT}',
              'envfile=${ZIPAPP_EXEC_ENV_FILE:+EnvironmentFile=$ZIPAPP_EXEC_ENV_FILE}',
              "exec " + " \\\n  ".join(words)]
    return "\n".join(lines) + "\n"


HOST_SCRIPT = r"""#!/bin/sh
# Managed by containerless.zipapp (written by the deploy role; changes are overwritten).
# zipapp-exec [--root DIR] NAME ARGS...: run ARGS after NAME's live zipapp, with the live release's env
# file, credentials and sandbox, as the app's dynamic user, e.g. `zipapp-exec demoapp manage shell`.
# Interactive with a terminal, piped without one; exits with the command's status. Root only.
set -eu
root=${ZIPAPP_ROOT:-/opt/zipapp}
if [ "${1:-}" = --root ]; then
  [ $# -ge 2 ] || { echo "zipapp-exec: --root needs a directory" >&2; exit 2; }
  root=$2
  shift 2
fi
if [ $# -lt 2 ]; then
  echo "usage: zipapp-exec [--root DIR] NAME ARGS...  (e.g. zipapp-exec demoapp manage check)" >&2
  exit 2
fi
name=$1
shift
case $name in
  ''|.*|*[!A-Za-z0-9_.-]*) echo "zipapp-exec: $name is not an app name" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "zipapp-exec: run it as root (it starts a service as the app's user)" >&2; exit 2; }
app=$root/$name
[ -d "$app" ] || { echo "zipapp-exec: no app $name under $root (--root or ZIPAPP_ROOT names another root)" >&2; exit 2; }
[ -e "$app/current" ] || { echo "zipapp-exec: $name has nothing live (no $app/current)" >&2; exit 2; }
script=$app/current/config/exec
[ -f "$script" ] || { echo "zipapp-exec: the live release of $name has no exec script: deploy it again with this collection" >&2; exit 2; }
exec /bin/sh "$script" "$@"
"""


def host_script_wanted(path=HOST_SCRIPT_PATH):
    """Whether ``path`` lacks the current host script (missing, older or edited)."""
    try:
        with open(path, "rb") as f:
            return f.read() != HOST_SCRIPT.encode("utf-8") or (os.stat(path).st_mode & 0o7777) != 0o755
    except (IOError, OSError):
        return True

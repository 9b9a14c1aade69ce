# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pex release's venv, built once inside the release by the pex's own tools.

This is a private module_utils file: its interface may change without notice.

A ``.pex`` (told from its ``PEX-INFO``, not from its name) gets a venv built once per release and
interpreter with ``PEX_TOOLS=1 python app.pex venv`` inside the release directory; the service runs the
venv's ``pex`` script, so the app never needs a writable ``PEX_ROOT``.
"""

import hashlib
import os


def venv_dir(release_dir, python):
    """Where a pex release gets its venv for ``python``: inside the release (pruned with it, read-only to the
    app), one per interpreter, so a release moved to another interpreter never has its live venv rebuilt
    under the running app."""
    digest = hashlib.sha256(python.encode("utf-8")).hexdigest()[:12]
    return os.path.join(release_dir, "venv-%s" % digest)


def venv_marker(venv):
    """Written once the venv is complete: a venv without it is half built and is built again."""
    return os.path.join(os.path.dirname(venv), ".%s-complete" % os.path.basename(venv))


def venv_command(python, pex_path, venv):
    """Build the release's venv with the pex's own tools (the pex must be built with --include-tools).

    Run it with ``PEX_TOOLS=1`` and a ``PEX_ROOT`` of its own (venv_env()).  The distributions are
    copied into the venv (not linked into PEX_ROOT, which is removed afterwards) and compiled, so the app
    never writes a pyc or reads PEX_ROOT at run time.
    """
    return [python, pex_path, "venv", "--force", "--site-packages-copies", "--compile", venv]


def venv_env(pex_root):
    return {"PEX_TOOLS": "1", "PEX_ROOT": pex_root, "PEX_VERBOSE": "0"}

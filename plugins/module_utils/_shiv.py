# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inspect a zipapp, pre-extract a shiv zipapp's cache and build a pex's venv, without running the app.

This is a private module_utils file: its interface may change without notice.

A shiv ``.pyz`` extracts its ``site-packages`` on first start into
``<SHIV_ROOT>/<resolved pyz file name>_<build_id>/site-packages``; when that directory exists, shiv
takes no lock and writes nothing.  So root extracts it once per release, into a cache root that the
service only reads, by calling the pyz's own ``_bootstrap.extract_site_packages`` (zipimport, the
target interpreter, ``-I -S``) -- the app itself never runs -- and compiles its pycs, reusing those
of the previous release for unchanged files.  Modes are set explicitly, so a root umask of 077 still
leaves the tree readable by the service's dynamic user.

A ``.pex`` (detected from its ``PEX-INFO``, not from its name) gets a venv built once per release with
the pex's own tools (``PEX_TOOLS=1 python app.pex venv``) inside the release directory; the service runs
the venv's ``pex`` script, so the app never needs a writable ``PEX_ROOT``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import stat
import zipfile


class ZipappError(Exception):
    """The file is not a usable zipapp."""


def inspect(path):
    """Describe the zipapp at ``path``: kind (pex, shiv or zipapp), build id, entry point, shebang."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
        zf = zipfile.ZipFile(path)
    except (IOError, OSError, zipfile.BadZipfile) as e:
        raise ZipappError("%s is not a zip application: %s" % (path, e))
    shebang = None
    if head.startswith(b"#!"):
        shebang = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    with zf:
        names = set(zf.namelist())
        if "PEX-INFO" in names:
            pex_info = _json_member(zf, "PEX-INFO", path)
            return {
                "kind": "pex",
                "build_id": pex_info.get("pex_hash") or pex_info.get("code_hash"),
                "entry_point": pex_info.get("entry_point") or pex_info.get("script"),
                "shebang": shebang,
                "includes_tools": bool(pex_info.get("includes_tools")),
                "pex_version": (pex_info.get("build_properties") or {}).get("pex_version"),
            }
        if "environment.json" in names and any(n.startswith("_bootstrap/") for n in names):
            env = _json_member(zf, "environment.json", path)
            return {
                "kind": "shiv",
                "build_id": env.get("build_id"),
                "entry_point": env.get("entry_point") or env.get("script"),
                "shebang": shebang,
                "shiv_version": env.get("shiv_version"),
            }
        if "__main__.py" in names:
            return {"kind": "zipapp", "build_id": None, "entry_point": "__main__.py", "shebang": shebang}
    raise ZipappError("%s has neither shiv's environment.json nor a __main__.py: not a runnable zipapp" % path)


def _json_member(zf, member, path):
    try:
        return json.loads(zf.read(member).decode("utf-8"))
    except ValueError as e:
        raise ZipappError("%s: %s is not JSON: %s" % (path, member, e))


def cache_dir(shiv_root, pyz_path, build_id):
    """Where shiv looks for this pyz's cache (mirrors shiv's ``cache_path``)."""
    return os.path.join(shiv_root, "%s_%s" % (os.path.basename(os.path.realpath(pyz_path)), build_id))


# Runs under the target interpreter with ``-I -S``: the pyz's own bootstrap does the extraction
# (no pyc compilation: compile_command() does that, reusing the previous release's pycs).
EXTRACT_CODE = r"""
import json, os, sys, zipfile
pyz, root = sys.argv[1], sys.argv[2]
os.umask(0o022)
sys.path.insert(0, pyz)
import _bootstrap
with zipfile.ZipFile(pyz) as archive:
    env = json.loads(archive.read("environment.json").decode("utf-8"))
    target = _bootstrap.cache_path(archive, root, env["build_id"])
    if not (target / "site-packages").exists():
        _bootstrap.extract_site_packages(archive, target, False, 0)
print(json.dumps({"cache": str(target)}))
"""


def pex_venv_dir(release_dir, python):
    """Where a pex release gets its venv for ``python``: inside the release (pruned with it, read-only to the
    app), one per interpreter, so a release moved to another interpreter never has its live venv rebuilt
    under the running app."""
    digest = hashlib.sha256(python.encode("utf-8")).hexdigest()[:12]
    return os.path.join(release_dir, "venv-%s" % digest)


def pex_venv_marker(venv):
    """Written once the venv is complete: a venv without it is half built and is built again."""
    return os.path.join(os.path.dirname(venv), ".%s-complete" % os.path.basename(venv))


def pex_venv_command(python, pex_path, venv):
    """Build the release's venv with the pex's own tools (the pex must be built with --include-tools).

    Run it with ``PEX_TOOLS=1`` and a ``PEX_ROOT`` of its own (pex_venv_env()).  The distributions are
    copied into the venv (not linked into PEX_ROOT, which is removed afterwards) and compiled, so the app
    never writes a pyc or reads PEX_ROOT at run time.
    """
    return [python, pex_path, "venv", "--force", "--site-packages-copies", "--compile", venv]


def pex_venv_env(pex_root):
    return {"PEX_TOOLS": "1", "PEX_ROOT": pex_root, "PEX_VERBOSE": "0"}


def lock_file(cache):
    """shiv's extraction lock next to a cache dir."""
    return os.path.join(os.path.dirname(cache), ".%s_lock" % os.path.basename(cache))


def compiled_marker(cache):
    """Written once every pyc of a cache exists: an interrupted compilation is resumed."""
    return os.path.join(os.path.dirname(cache), ".%s_compiled" % os.path.basename(cache))


def extract_command(python, pyz_path, shiv_root):
    return [python, "-I", "-S", "-c", EXTRACT_CODE, pyz_path, shiv_root]


# Runs under the target interpreter (pycs are specific to it).  Every .py of the new site-packages
# gets a pyc; a file identical to the one in the previous release's cache gets that release's pyc
# (a hard link), the others are compiled, in parallel.  The pycs are "unchecked hash" pycs: the tree
# never changes, so Python need not stat or hash the sources to trust them.
COMPILE_CODE = r"""
import importlib.util, json, os, py_compile, sys
new, prev = sys.argv[1], sys.argv[2]
os.umask(0o022)
try:
    MODE = py_compile.PycInvalidationMode.UNCHECKED_HASH
except AttributeError:  # Python < 3.7
    MODE = None

def same(a, b):
    try:
        if os.path.getsize(a) != os.path.getsize(b):
            return False
        with open(a, "rb") as fa, open(b, "rb") as fb:
            return fa.read() == fb.read()
    except OSError:
        return False

def compile_one(src):
    try:
        kw = {"invalidation_mode": MODE} if MODE else {}
        py_compile.compile(src, doraise=True, **kw)
        return 1
    except Exception:  # a file Python cannot compile is one it cannot import either
        return 0

todo, linked = [], 0
for dirpath, dirnames, filenames in os.walk(new):
    dirnames[:] = [d for d in dirnames if d != "__pycache__"]
    for name in filenames:
        if not name.endswith(".py"):
            continue
        src = os.path.join(dirpath, name)
        pyc = importlib.util.cache_from_source(src)
        if os.path.exists(pyc):
            continue
        if prev:
            old = os.path.join(prev, os.path.relpath(src, new))
            old_pyc = importlib.util.cache_from_source(old)
            if os.path.exists(old_pyc) and same(old, src):
                os.makedirs(os.path.dirname(pyc), exist_ok=True)
                os.link(old_pyc, pyc)
                linked += 1
                continue
        todo.append(src)
compiled = 0
if len(todo) > 64 and (os.cpu_count() or 1) > 1:
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        compiled = sum(pool.map(compile_one, todo, chunksize=32))
else:
    compiled = sum(compile_one(src) for src in todo)
print(json.dumps({"linked": linked, "compiled": compiled, "failed": len(todo) - compiled}))
"""


def compile_command(python, site_packages, previous_site_packages=None):
    return [python, "-I", "-S", "-c", COMPILE_CODE, site_packages, previous_site_packages or ""]


def make_readable(top):
    """Give everything under ``top`` (and ``top``) world read, and world execute where it matters."""
    changed = 0
    for dirpath, dirnames, filenames in os.walk(top):
        for name in [dirpath] + [os.path.join(dirpath, f) for f in filenames]:
            st = os.lstat(name)
            if stat.S_ISLNK(st.st_mode):
                continue
            mode = stat.S_IMODE(st.st_mode)
            want = mode | 0o644
            if stat.S_ISDIR(st.st_mode) or mode & 0o100:
                want |= 0o755
            want &= ~0o022
            if want != mode:
                os.chmod(name, want)
                changed += 1
    return changed

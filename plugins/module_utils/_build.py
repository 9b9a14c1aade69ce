# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build a shiv zipapp reproducibly: the same source and version give a byte-identical ``.pyz``.

This is a private module_utils file: its interface may change without notice.

What makes two builds differ, and what this does about it:

- time stamps: ``shiv --reproducible`` with ``SOURCE_DATE_EPOCH`` (the last commit of the project, or given);
- dependency versions: every distribution in the zipapp must be pinned (``==``) in the requirements
  (a lock file from pip-compile/uv or ``pip freeze``); one that is not fails the build;
- the tools: a build venv with exactly ``pip==<version>`` and ``shiv==<version>`` (from PyPI), recreated when
  they or the interpreter change;
- absolute paths: pip writes the path of a local project into ``direct_url.json`` and the build venv's
  interpreter into the shebang of the console scripts in ``bin/``, so the project is copied to a fixed
  staging path and the venv lives at a fixed path, both under ``build_dir`` (same ``build_dir``, same
  bytes, wherever the checkout is);
- file modes: the staging copy gets 0644/0755 and the build runs with umask 022 (shiv stores the modes);
- leftovers: ``build/``, ``*.egg-info``, ``__pycache__``, ``.git`` ... are not copied.

One build at a time per ``build_dir`` (a lock), since the paths are fixed.

Layouts: a *package* (``pyproject.toml`` or ``setup.py``, with its own entry point) is installed by shiv's pip
as it always was. A *django* project as ``django-admin startproject`` lays it out (``manage.py`` at the root,
``templates/`` and ``static/`` beside the packages, ``BASE_DIR = Path(__file__).resolve().parent.parent``) and a
plain *wsgi* app (Flask's ``app:app``) are no packages: their directory is mirrored into the root of the
zipapp's ``site-packages``, so BASE_DIR is site-packages and ``BASE_DIR / "templates"`` resolves as in
development. pip installs the pinned requirements there itself (``--target``: its whole output is ours to show
when it fails), ``collectstatic`` runs there at build time, and a launcher shipped with the collection
(``serve``, ``manage``, ``version``) becomes the entry point; shiv then only zips that directory
(``--site-packages`` without pip arguments, which shiv reads in place).
"""

import fcntl
import fnmatch
import json
import os
import re
import shutil
import stat
import zipfile

from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.containerless.zipapp.plugins.module_utils._archive import ZipappInfoError, inspect_archive
from ansible_collections.containerless.zipapp.plugins.module_utils._artifact import makedirs, place, sha256_file
from ansible_collections.containerless.zipapp.plugins.module_utils._compatibility import check as check_compatibility
from ansible_collections.containerless.zipapp.plugins.module_utils._interpreter import (
    interpreter_label,
    parse_probe,
    probe_command,
)

SHIV_VERSION = "1.0.8"
PIP_VERSION = "26.3"
MIN_EPOCH = 315532800  # 1980-01-01: zip cannot store earlier times
EXCLUDE_DIRS = frozenset(["build", "dist", ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "__pycache__",
                          ".mypy_cache", ".pytest_cache", ".ruff_cache", "node_modules"])
EXCLUDE_SUFFIXES = (".pyc", ".pyo", ".egg-info", ".dist-info")
ENTRY_POINT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
PIN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(===?)\s*([^\s;\\]+)")
DIRECT_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*@\s*\S+")


LAYOUTS = ("auto", "package", "django", "wsgi")
SERVERS = ("gunicorn", "pyuwsgi")
LAUNCHER_MODULE = "_zipapp_launcher"
LAUNCHER_CONFIG = "_zipapp_launcher.json"
# A mirrored project leaves these out wherever they are: VCS, virtual environments, caches, local databases and
# secrets (.env), editor droppings. ``media`` (uploads of a development server) only at the top.
MIRROR_EXCLUDE_NAMES = ("*.pyc", "*.pyo", "*.egg-info", "*.dist-info", "db.sqlite3", "*.sqlite3-journal",
                        ".env", ".env.*", "*.env", ".git*", ".hg*", ".DS_Store", "*.swp", "*~", ".coverage", ".idea",
                        ".vscode")
MIRROR_EXCLUDE_TOP = ("media", "build", "dist", "htmlcov")
MODULE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
SETTINGS_RE = re.compile(r"""DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([A-Za-z_][A-Za-z0-9_.]*)['"]""")
TARGET_PYTHON_RE = re.compile(r"3\.[0-9]{1,2}(\.[0-9]{1,3})?")
NO_MATCH_RE = re.compile(r"No matching distribution found for (\S+)")
TAIL_LINES = 30


class BuildError(Exception):
    """The build failed or was refused; the message says why."""


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(text, source="the requirements"):
    """``{canonical name: version}`` of a pinned requirements file; BuildError lists every line that is not
    pinned.  Accepts ``name==1.2``, ``name[extra]===1.2``, environment markers, ``--hash`` options and
    continuation lines (pip-compile, uv and ``pip freeze`` output) and direct references ``name @ url``."""
    pins = {}
    problems = []
    logical = []
    buf = ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        logical.append(buf + line)
        buf = ""
    if buf:
        logical.append(buf)
    for line in logical:
        line = line.strip()
        if not line:
            continue
        if line.startswith("-"):
            option = line.split()[0].split("=")[0]
            if option in ("-r", "--requirement", "-c", "--constraint", "-e", "--editable"):
                problems.append("%r: includes and editable installs are not supported, give one flat, pinned "
                                "file (a lock file)" % line)
            continue  # --hash, --index-url, --find-links, --only-binary ... are pip's business
        m = PIN_RE.match(line)
        if m and "*" not in m.group(4):
            pins[canonical(m.group(1))] = m.group(4)
            continue
        m = DIRECT_RE.match(line)
        if m:
            pins[canonical(m.group(1))] = None  # a direct reference: one exact artifact
            continue
        problems.append("%r is not pinned (use name==version)" % line)
    if problems:
        raise BuildError("%s must pin every requirement exactly for a reproducible build: %s"
                         % (source, "; ".join(problems)))
    return pins


def zip_distributions(pyz):
    """``[(name, version, local)]`` of the distributions in a shiv zipapp; ``local`` marks the ones pip
    installed from a directory (the project itself: they have a ``direct_url.json``)."""
    dists = {}
    with zipfile.ZipFile(pyz) as zf:
        for n in zf.namelist():
            m = re.match(r"^site-packages/([^/]+)-([^/-]+)\.dist-info/(METADATA|direct_url\.json)$", n)
            if m:
                entry = dists.setdefault((m.group(1), m.group(2)), False)
                dists[(m.group(1), m.group(2))] = entry or m.group(3) == "direct_url.json"
    return sorted((name, version, local) for (name, version), local in dists.items())


def unpinned(dists, pins):
    """The distributions (``name==version``) that are neither pinned nor installed from the project."""
    out = []
    for name, version, local in dists:
        if local:
            continue
        pinned = pins.get(canonical(name), False)
        if pinned is False or (pinned is not None and pinned != version and canonical(pinned) != canonical(version)):
            out.append("%s==%s" % (name, version))
    return out


def check_epoch(value):
    try:
        epoch = int(str(value).strip())
    except (TypeError, ValueError):
        raise BuildError("source_date_epoch must be an integer (seconds since 1970), got %r" % (value,))
    if epoch < MIN_EPOCH:
        raise BuildError("source_date_epoch=%d is before 1980, which a zip file cannot store" % epoch)
    return epoch


def git_epoch(project, run):
    """``(epoch, dirty)``: the commit time of the last commit touching ``project``, and whether the project
    has changes that are not committed.  ``run(argv, cwd)`` returns ``(rc, out, err)``."""
    rc, out, err = run(["git", "log", "-1", "--format=%ct", "--", "."], project)
    if rc != 0 or not out.strip():
        raise BuildError("cannot take SOURCE_DATE_EPOCH from git for %s (%s): set source_date_epoch"
                         % (project, (err or "no commit touches it").strip()[-300:]))
    rc, status, _err = run(["git", "status", "--porcelain", "--", "."], project)
    return check_epoch(out.strip()), rc == 0 and bool(status.strip())


def copy_project(src, dest):
    """Copy ``src`` to ``dest`` (removed first) without build leftovers, with modes 0644/0755."""
    if os.path.lexists(dest):
        shutil.rmtree(dest)
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDE_DIRS and not d.endswith(EXCLUDE_SUFFIXES)
                         and not os.path.islink(os.path.join(root, d)))
        rel = os.path.relpath(root, src)
        target = os.path.normpath(os.path.join(dest, rel))
        os.makedirs(target)
        os.chmod(target, 0o755)
        for name in sorted(files):
            if name.endswith(EXCLUDE_SUFFIXES):
                continue
            path = os.path.join(root, name)
            if not os.path.isfile(path):
                continue  # sockets, dangling links
            out = os.path.join(target, name)
            shutil.copyfile(path, out)
            executable = os.stat(path).st_mode & stat.S_IXUSR
            os.chmod(out, 0o755 if executable else 0o644)


def write_version_file(staging, version_file, version):
    """Write ``VERSION = "<version>"`` into ``version_file`` (relative to the project) of the staging copy."""
    parts = version_file.replace("\\", "/").split("/")
    if version_file.startswith("/") or ".." in parts or not version_file.endswith(".py"):
        raise BuildError("version_file=%r must be a .py path inside the project, without '..'" % version_file)
    path = os.path.join(staging, *parts)
    if not os.path.isdir(os.path.dirname(path)):
        raise BuildError("version_file=%r: its directory is not in the project" % version_file)
    with open(path, "w") as f:
        f.write('# Written by containerless.zipapp.zipapp_build\nVERSION = "%s"\n__version__ = VERSION\n' % version)
    os.chmod(path, 0o644)


def shiv_command(venv, output, source, requirements=None, entry_point=None, console_script=None,
                 interpreter="/usr/bin/env python3", compressed=True, compile_pyc=False, pip_args=(), shiv_args=(),
                 site_packages=None):
    """The shiv command line: ``--reproducible`` always, pip's arguments after ``--``-less shiv options; with
    ``site_packages`` no pip arguments at all, so that shiv zips that directory in place (shiv 1.0.8 copies it
    and runs pip over the copy when it gets any)."""
    cmd = [os.path.join(venv, "bin", "shiv"), "--reproducible", "-p", interpreter, "-o", output]
    if entry_point:
        cmd += ["-e", entry_point]
    if console_script:
        cmd += ["-c", console_script]
    if compressed:
        cmd.append("--compressed")
    if compile_pyc:
        cmd.append("--compile-pyc")
    cmd += list(shiv_args)
    if site_packages:
        return cmd + ["--site-packages", site_packages]
    cmd += ["--disable-pip-version-check", "--no-input", "--progress-bar", "off"] + list(pip_args)
    if requirements:
        cmd += ["-r", requirements]
    cmd.append(source)
    return cmd


# ---------------------------------------------------------------------------------------------------
# Projects that are no packages: a Django project as startproject lays it out, a plain WSGI app

MIRROR_EXCLUDE_DIRS = frozenset(EXCLUDE_DIRS - {"build", "dist"})


def resolve_layout(project: str, layout: str, wsgi_app: Optional[str]) -> str:
    """``auto``: a package when the project has pyproject.toml or setup.py (its own entry point), else a Django
    project when it has manage.py, else a WSGI app when ``wsgi_app`` is given."""
    if layout not in LAYOUTS:
        raise BuildError("layout=%r must be one of %s" % (layout, ", ".join(LAYOUTS)))
    if layout != "auto":
        return layout
    if any(os.path.isfile(os.path.join(project, f)) for f in ("pyproject.toml", "setup.py")):
        return "package"
    if os.path.isfile(os.path.join(project, "manage.py")):
        return "django"
    if wsgi_app:
        return "wsgi"
    raise BuildError("%s has no pyproject.toml or setup.py (a package with an entry point), no manage.py (a Django "
                     "project) and zipapp_publish_wsgi_app is not set (a plain WSGI app, e.g. app:app): say what it "
                     "is with zipapp_publish_layout" % project)


def settings_from_manage(text: str) -> Optional[str]:
    """The settings module that manage.py sets (``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x.settings")``
    as startproject writes it), or None."""
    m = SETTINGS_RE.search(text)
    return m.group(1) if m else None


def module_in_project(project: str, module: str) -> bool:
    """Whether ``a.b`` is ``a/b.py`` or ``a/b/__init__.py`` in the project (a Python file it ships)."""
    path = os.path.join(project, *module.split("."))
    return os.path.isfile(path + ".py") or os.path.isfile(os.path.join(path, "__init__.py"))


def excluded(rel: str, is_dir: bool, patterns: Sequence[str]) -> bool:
    """Whether the project path ``rel`` (relative, with '/') stays out of the zipapp: the built-in excludes, and
    ``patterns`` (zipapp_publish_exclude: globs matched against the relative path, or against the name when
    they have no '/'; a trailing '/' matches directories only)."""
    name = rel.rsplit("/", 1)[-1]
    top = "/" not in rel
    if is_dir and (name in MIRROR_EXCLUDE_DIRS or (top and name in MIRROR_EXCLUDE_TOP)):
        return True
    if any(fnmatch.fnmatchcase(name, p) for p in MIRROR_EXCLUDE_NAMES):
        return True
    for pattern in patterns:
        dir_only = pattern.endswith("/")
        pattern = pattern.strip("/")
        if dir_only and not is_dir:
            continue
        if fnmatch.fnmatchcase(rel, pattern) or ("/" not in pattern and fnmatch.fnmatchcase(name, pattern)):
            return True
    return False


def project_files(src: str, patterns: Sequence[str] = ()) -> List[str]:
    """The files of a mirrored project (relative paths, sorted) without what :func:`excluded` leaves out,
    virtual environments (a ``pyvenv.cfg``) and symbolic links to directories."""
    out = []
    for root, dirs, files in os.walk(src):
        rel_root = os.path.relpath(root, src).replace(os.sep, "/")
        rel_root = "" if rel_root == "." else rel_root + "/"
        keep = []
        for d in sorted(dirs):
            path = os.path.join(root, d)
            if os.path.islink(path) or os.path.isfile(os.path.join(path, "pyvenv.cfg")):
                continue
            if not excluded(rel_root + d, True, patterns):
                keep.append(d)
        dirs[:] = keep
        for f in sorted(files):
            if os.path.isfile(os.path.join(root, f)) and not excluded(rel_root + f, False, patterns):
                out.append(rel_root + f)
    return sorted(out)


def installed_top_levels(site_packages: str) -> Dict[str, str]:
    """``{top-level name: distribution}`` of what pip installed into ``site_packages`` (from the RECORDs)."""
    owners = {}  # type: Dict[str, str]
    for entry in sorted(os.listdir(site_packages)):
        record = os.path.join(site_packages, entry, "RECORD")
        if not entry.endswith(".dist-info") or not os.path.isfile(record):
            continue
        dist = entry[:-len(".dist-info")].split("-")[0]
        owners.setdefault(entry, dist)
        with open(record, encoding="utf-8") as f:
            for line in f:
                path = line.split(",", 1)[0].strip().replace("\\", "/")
                top = path.split("/", 1)[0]
                if top and top not in ("..", "."):
                    owners.setdefault(top, dist)
    for entry in os.listdir(site_packages):
        owners.setdefault(entry, "pip")
    return owners


def mirror_project(src: str, dest: str, patterns: Sequence[str] = ()) -> List[str]:
    """Copy the project's files into the site-packages ``dest`` (modes 0644/0755); returns the top-level names.

    A top-level name that pip installed too is refused, naming both: one would hide the other."""
    files = project_files(src, patterns)
    owners = installed_top_levels(dest)
    reserved = {LAUNCHER_MODULE + ".py": "the launcher", LAUNCHER_CONFIG: "the launcher"}
    tops = sorted(set(f.split("/", 1)[0] for f in files))
    clashes = ["%s%s (installed by %s)" % (t, "/" if os.path.isdir(os.path.join(src, t)) else "",
                                           owners.get(t) or reserved.get(t))
               for t in tops if t in owners or t in reserved]
    if clashes:
        raise BuildError("the project's top-level %s collide%s with what the zipapp's site-packages already has: %s; "
                         "rename it, or leave it out with zipapp_publish_exclude"
                         % ("names" if len(clashes) > 1 else "name", "" if len(clashes) > 1 else "s",
                            "; ".join(clashes)))
    for rel in files:
        path = os.path.join(src, *rel.split("/"))
        out = os.path.join(dest, *rel.split("/"))
        if not os.path.isdir(os.path.dirname(out)):
            os.makedirs(os.path.dirname(out))
        shutil.copyfile(path, out)
        os.chmod(out, 0o755 if os.stat(path).st_mode & stat.S_IXUSR else 0o644)
    return tops


def normalise_modes(root: str) -> None:
    """Directories 0755, files 0644 (0755 when executable): shiv stores the modes, so the bytes depend on them."""
    for base, dirs, files in os.walk(root):
        for d in dirs:
            path = os.path.join(base, d)
            if not os.path.islink(path):
                os.chmod(path, 0o755)
        for f in files:
            path = os.path.join(base, f)
            if not os.path.islink(path):
                os.chmod(path, 0o755 if os.stat(path).st_mode & stat.S_IXUSR else 0o644)


def pinned_name(pins: Dict[str, Optional[str]], name: str) -> bool:
    return canonical(name) in pins


def tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of a tool's output, without pip's notes about index locations it ignores."""
    kept = [line.rstrip() for line in (text or "").splitlines()
            if line.strip() and not re.match(r"WARNING: Location '[^']*' is ignored", line.strip())]
    return "\n".join(kept[-lines:])


def pip_install_command(vpy: str, target: str, requirements: str, pip_args: Sequence[str]) -> List[str]:
    """pip installs the pinned requirements into the zipapp's site-packages itself (as shiv would, but with the
    output in our hands); no bytecode (shiv leaves .pyc out anyway)."""
    return ([vpy, "-m", "pip", "install", "--target", target, "--no-compile", "--progress-bar", "off",
             "--disable-pip-version-check",
             "--no-input"] + list(pip_args) + ["-r", requirements])


def missing_distributions(output: str) -> List[str]:
    """The requirements pip found no distribution for (``No matching distribution found for x==1``)."""
    found = []  # type: List[str]
    for m in NO_MATCH_RE.finditer(output or ""):
        if m.group(1) not in found:
            found.append(m.group(1))
    return found


def sdist_only(run: Callable, vpy: str, requirement: str, pip_args: Sequence[str], env: Dict[str, str]) -> bool:
    """Whether pip skipped a source distribution of ``requirement`` because of --only-binary: asked again for that
    one requirement alone, without resolving or building anything (``--dry-run --no-deps``), pip says so at -vv
    (``Skipping link: No sources permitted for NAME: ...NAME-1.0.tar.gz``)."""
    m = PIN_RE.match(requirement)
    name = canonical(m.group(1) if m else re.split(r"[\[<>=!~;@ ]", requirement, 1)[0])
    version = m.group(4) if m else None
    argv = ([vpy, "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed", "-vv",
             "--disable-pip-version-check", "--no-input"] + list(pip_args) + [requirement])
    _rc, out, err = run(argv, None, env)
    for line in (out + "\n" + err).splitlines():
        hit = re.search(r"No sources permitted for ([^:]+): (\S+)", line)
        if not hit or canonical(hit.group(1)) != name:
            continue
        link = hit.group(2).split("#", 1)[0].rsplit("/", 1)[-1]
        if version is None or re.search(r"-%s\.(tar\.gz|zip|tar\.bz2)$" % re.escape(version), link):
            return True
    return False


def pip_failure(tool: str, rc: int, output: str, python: str, run: Callable, vpy: str, pip_args: Sequence[str],
                env: Dict[str, str]) -> str:
    """The message of a failed pip install (through shiv or not): which interpreter, the sdist-only
    requirements named with the variable that allows them, and the last lines of pip's own output."""
    parts = ["%s failed (rc=%d) with the build interpreter %s" % (tool, rc, python)]
    only_binary = any(a.startswith("--only-binary") for a in pip_args)
    if only_binary:
        sdists = [r for r in missing_distributions(output) if sdist_only(run, vpy, r, pip_args, env)]
        for req in sdists:
            name = (PIN_RE.match(req).group(1) if PIN_RE.match(req) else req)
            parts.append("%s is on the index only as a source distribution (sdist), and --only-binary in "
                         "zipapp_publish_pip_args refuses to build one: allow it with zipapp_publish_pip_args: "
                         "[\"--only-binary=:all:\", --no-binary, %s] (pip builds it, with the build interpreter), "
                         "or build its wheel yourself into a wheelhouse and add [--find-links, /path/to/wheels]"
                         % (req, name))
    parts.append("the last lines of its output:\n%s" % tail(output))
    return "; ".join(parts[:-1]) + "; " + parts[-1]


def read_settings_info(run: Callable, vpy: str, site_packages: str, settings: str, env: Dict[str, str]) -> dict:
    """STATIC_ROOT of the settings, loaded as the zipapp will load them: the mirrored project and its
    requirements on sys.path after the standard library, nothing of the build venv (``-S``)."""
    rc, out, err = run([vpy, "-S", "-B", "-c", SETTINGS_PROBE, site_packages], site_packages, env)
    if rc != 0:
        raise BuildError("loading the Django settings %s at build time failed (rc=%d): %s; settings that read the "
                         "environment get it from zipapp_publish_build_env"
                         % (settings, rc, tail(err or out, 15)))
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise BuildError("loading the Django settings %s printed no answer: %s" % (settings, tail(out + err, 10)))


SETTINGS_PROBE = r"""
import json, os, site, sys
site.addsitedir(sys.argv[1])
from django.conf import settings
root = getattr(settings, "STATIC_ROOT", None)
print(json.dumps({"static_root": os.fspath(root) if root else None}))
"""

# A management command at build time, on the mirrored project: manage.py <argv[2:]>
MANAGE = r"""
import site, sys
site.addsitedir(sys.argv[1])
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py"] + sys.argv[2:])
"""


def static_root_in(site_packages: str, static_root: str, owners: Dict[str, str]) -> str:
    """STATIC_ROOT must be a directory of the project (it ships in the zipapp), not the project itself and not
    something pip installed."""
    root = os.path.realpath(os.path.join(site_packages, static_root))
    base = os.path.realpath(site_packages)
    rel = os.path.relpath(root, base)
    if rel == "." or rel.startswith(".." + os.sep) or rel == "..":
        raise BuildError("STATIC_ROOT=%s is outside the project (at build time the project is %s): collectstatic "
                         "must collect into the project so that the files ship in the zipapp; set STATIC_ROOT = "
                         "BASE_DIR / \"staticfiles\", or zipapp_publish_collectstatic: false" % (static_root, base))
    top = rel.split(os.sep, 1)[0]
    if top in owners:
        raise BuildError("STATIC_ROOT=%s is %s, which %s installed: choose a directory of the project's own, e.g. "
                         "BASE_DIR / \"staticfiles\"" % (static_root, top, owners[top]))
    return root


def write_launcher(site_packages: str, launcher: str, config: dict) -> None:
    """The launcher and what it needs to know (layout, settings or WSGI app, server, name, version)."""
    if not launcher or not os.path.isfile(launcher):
        raise BuildError("launcher %r is not a file (the publish role passes roles/publish/files/zipapp_launcher.py)"
                         % (launcher,))
    out = os.path.join(site_packages, LAUNCHER_MODULE + ".py")
    shutil.copyfile(launcher, out)
    os.chmod(out, 0o644)
    with open(os.path.join(site_packages, LAUNCHER_CONFIG), "w", encoding="utf-8") as f:
        f.write(json.dumps(config, sort_keys=True, indent=1) + "\n")
    os.chmod(os.path.join(site_packages, LAUNCHER_CONFIG), 0o644)


def check_server_pinned(pins: Dict[str, Optional[str]], server: str, req_path: str) -> None:
    if server not in SERVERS:
        raise BuildError("server=%r must be one of %s (zipapp_publish_server)" % (server, ", ".join(SERVERS)))
    if not pinned_name(pins, server):
        raise BuildError("the server %s (zipapp_publish_server) is not pinned in %s (zipapp_publish_requirements): "
                         "add %s==<version>, or choose the server that is with zipapp_publish_server"
                         % (server, req_path, server))


def stage_site_packages(run: Callable, env: Dict[str, str], vpy: str, project: str, site_packages: str,
                        req_path: str, pip_args: Sequence[str], python: str, layout: str, settings: Optional[str],
                        wsgi_app: Optional[str], server: str, collectstatic: bool, django_env: Dict[str, str],
                        exclude: Sequence[str], launcher: str, version_file: Optional[str],
                        launcher_config: dict, build_commands: Sequence[Sequence[str]] = ()) -> dict:
    """The zipapp's site-packages of a project that is no package: the requirements (pip --target), the project
    mirrored into its root, collectstatic, the ``build_commands`` (management commands whose output ships:
    django-compressor's ``compress``, ``compilemessages``), the launcher. Returns what it did (``collectstatic``,
    ``build_commands``, ``top_levels``)."""
    if os.path.lexists(site_packages):
        shutil.rmtree(site_packages)
    os.makedirs(site_packages)
    cmd = pip_install_command(vpy, site_packages, req_path, pip_args)
    rc, out, err = run(cmd, site_packages, env)
    if rc != 0:
        raise BuildError(pip_failure("pip install", rc, (out or "") + "\n" + (err or ""), python, run, vpy, pip_args,
                                     env))
    owners = installed_top_levels(site_packages)
    info = {"top_levels": mirror_project(project, site_packages, exclude), "collectstatic": None}
    if version_file:
        write_version_file(site_packages, version_file, launcher_config["version"])
    if layout == "django":
        denv = dict(env)
        denv.update(django_env)
        denv.update(DJANGO_SETTINGS_MODULE=settings, PYTHONDONTWRITEBYTECODE="1")
        static_root = read_settings_info(run, vpy, site_packages, settings, denv)["static_root"]
        if collectstatic and static_root:
            root = static_root_in(site_packages, static_root, owners)
            if os.path.lexists(root):
                shutil.rmtree(root)  # what a collectstatic in development left: collected anew
            rc, out, err = run([vpy, "-S", "-B", "-c", MANAGE, site_packages, "collectstatic", "--noinput"],
                               site_packages, denv)
            if rc != 0:
                raise BuildError("collectstatic --noinput failed at build time (rc=%d): %s; settings that read the "
                                 "environment get it from zipapp_publish_build_env, zipapp_publish_collectstatic: "
                                 "false skips it" % (rc, tail((out or "") + "\n" + (err or ""), 15)))
            info["collectstatic"] = (tail(out, 1) or "done").strip()
            info["static_root"] = os.path.relpath(root, os.path.realpath(site_packages))
        info["build_commands"] = []
        for i, args in enumerate(build_commands):
            rc, out, err = run([vpy, "-S", "-B", "-c", MANAGE, site_packages] + list(args), site_packages, denv)
            if rc != 0:
                raise BuildError("manage %s (zipapp_publish_build_commands[%d]) failed at build time (rc=%d): %s"
                                 % (" ".join(args), i, rc, tail((out or "") + "\n" + (err or ""), 15)))
            info["build_commands"].append((tail(out, 1) or "done").strip())
    write_launcher(site_packages, launcher, launcher_config)
    for base, dirs, _files in os.walk(site_packages):
        for d in [d for d in dirs if d == "__pycache__"]:
            shutil.rmtree(os.path.join(base, d))
        dirs[:] = [d for d in dirs if d != "__pycache__"]
    normalise_modes(site_packages)
    return info


# ---------------------------------------------------------------------------------------------------
# The hosts' Python, checked at build time


def target_probe(probe: dict, version: str) -> dict:
    """What the build interpreter's probe would say if it were CPython ``version`` ("3.13", "3.11.2") on the same
    platform: the deploy-time check (_compatibility) then answers for the hosts' Python. A "3.13" is 3.13.0, the
    oldest of its patch releases."""
    if probe.get("implementation") != "cpython":
        raise BuildError("zipapp_publish_target_python checks CPython wheels, but the build interpreter is %s"
                         % interpreter_label(probe))
    parts = [int(p) for p in version.split(".")]
    release = (parts + [0, 0])[:3]
    nodot, old = "%d%d" % tuple(release[:2]), "%d%d" % tuple(probe["version_info"][:2])
    target = dict(probe)
    target.update(version_info=[release[0], release[1], release[2], "final", 0], version=version,
                  py_version_nodot=nodot, gil_disabled=0, py_debug=0, gettotalrefcount=False,
                  executable="zipapp_publish_target_python")
    for key in ("soabi", "ext_suffix"):
        if target.get(key):
            target[key] = target[key].replace("-%s" % old, "-%s" % nodot)
    target["extension_suffixes"] = [s.replace("-%s" % old, "-%s" % nodot)
                                    for s in probe.get("extension_suffixes") or []]
    return target


def check_target_pythons(pyz: str, probe: dict, versions: Sequence[str]) -> List[Tuple[str, List[str]]]:
    """``[(version, problems)]`` of the target CPythons that cannot load the zipapp: one sentence per distribution
    (wheel tags, Requires-Python), as the deploy role would find out on the host."""
    try:
        info = inspect_archive(pyz)
    except ZipappInfoError as e:
        raise BuildError(str(e))
    problems = []
    for version in versions:
        if not TARGET_PYTHON_RE.fullmatch(str(version)):
            raise BuildError("zipapp_publish_target_python=%r must be a CPython version such as \"3.13\" or "
                             "\"3.11.2\"" % (version,))
        found = check_compatibility(info, target_probe(probe, str(version)))["problems"]
        if found:
            problems.append((str(version), found))
    return problems


def target_python_message(file_name: str, problems: List[Tuple[str, List[str]]], python_label: str,
                          targets: Sequence[str], built: bool = True) -> str:
    """Which target refuses what, and the way out: build with that CPython (one build per minor version when the
    fleet is mixed and a wheel is compiled), or pin versions that fit. ``built`` False: an artifact built
    elsewhere, checked on the platform of ``python_label``."""
    parts = ["%s cannot run on the hosts' CPython %s (zipapp_publish_target_python): %s"
             % (file_name, version, "; ".join(found)) for version, found in problems]
    minors = sorted(set(".".join(v.split(".")[:2]) for v in targets))
    if len(minors) > 1:
        way = ("a compiled wheel loads on one CPython minor version only: publish one build per CPython of the fleet "
               "(zipapp_publish_python: python3.X, each under its own zipapp_publish_name or version), or pin "
               "versions with pure-Python or abi3 wheels")
    else:
        way = ("build it with that CPython (zipapp_publish_python: python%s, on a controller or in a CI image that has "
               "it), or pin versions that have wheels for it" % minors[0])
    how = "It was built with %s" % python_label if built else "Checked on the platform of %s" % python_label
    return "%s. %s: %s" % ("; ".join(parts), how, way)


def build_env(epoch, base=None):
    env = dict(base if base is not None else os.environ)
    env.update(SOURCE_DATE_EPOCH=str(epoch), PYTHONHASHSEED="0", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_INPUT="1", TZ="UTC", LC_ALL="C.UTF-8", LANG="C.UTF-8")
    env.pop("PYTHONPATH", None)
    env.pop("PIP_USER", None)
    env.pop("PIP_TARGET", None)
    return env


def venv_stamp(python_id, pip_version, shiv_version):
    return "%s pip==%s shiv==%s" % (python_id, pip_version or "bundled", shiv_version)


class Lock:
    """One build per build directory (the staging and venv paths are fixed)."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)
        self.fd = None


def ensure_venv(venv, python, pip_version, shiv_version, run, env):
    """The build venv with exactly pip and shiv of these versions; returns True when it was (re)created."""
    rc, out, err = run([python, "-c", "import sys; print(sys.base_prefix, sys.version.split()[0])"], None, env)
    if rc != 0:
        raise BuildError("the build interpreter %s does not run: %s" % (python, (err or out).strip()[-500:]))
    stamp = venv_stamp(out.strip(), pip_version, shiv_version)
    stamp_file = os.path.join(venv, ".containerless-stamp")
    try:
        with open(stamp_file) as f:
            if f.read().strip() == stamp and os.access(os.path.join(venv, "bin", "shiv"), os.X_OK):
                return False
    except (IOError, OSError):
        pass
    if os.path.lexists(venv):
        shutil.rmtree(venv)
    steps = [[python, "-m", "venv", venv]]
    vpy = os.path.join(venv, "bin", "python")
    if pip_version:
        steps.append([vpy, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "pip==" + pip_version])
    steps.append([vpy, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "shiv==" + shiv_version])
    for argv in steps:
        rc, out, err = run(argv, None, env)
        if rc != 0:
            raise BuildError("creating the build venv failed: %s: %s" % (" ".join(argv), (err or out).strip()[-1500:]))
    with open(stamp_file, "w") as f:
        f.write(stamp + "\n")
    return True


def probe_python(run: Callable, python: str, env: Dict[str, str]) -> dict:
    """The build interpreter, asked what it is (the probe of the deploy-time check)."""
    rc, out, err = run(probe_command(python), None, env)
    if rc != 0:
        raise BuildError("the build interpreter %s does not run: %s" % (python, tail(err or out, 10)))
    try:
        return parse_probe(out)
    except ZipappInfoError as e:
        raise BuildError("the build interpreter %s: %s" % (python, e))


def build(project, version, dest_dir, build_dir, run, name=None, requirements="requirements.txt", version_file=None,
          entry_point=None, console_script=None, interpreter="/usr/bin/env python3", compressed=True,
          compile_pyc=False, python="python3", pip_version=PIP_VERSION, shiv_version=SHIV_VERSION,
          pip_args=("--only-binary=:all:",), shiv_args=(), source_date_epoch=None, mode=0o644, check_mode=False,
          layout="auto", django_settings=None, wsgi_app=None, server="gunicorn", collectstatic=True,
          django_env=None, exclude=(), target_python=(), launcher=None, place_artifact=True, build_commands=()):
    """Build ``<dest_dir>/<name>-<version>.pyz``; ``run(argv, cwd, env)`` returns ``(rc, out, err)`` and runs
    with umask 022.  Returns a result dict; an existing identical file is left alone (changed False).

    With ``place_artifact`` False the artifact stays in ``<build_dir>/out`` (``path``) and ``dest_path`` says
    where it belongs: the publish role places it only after every target took it, so a refused re-publish
    leaves the copy in ``dest_dir`` as it was. ``changed`` says whether that copy would change."""
    project = os.path.abspath(project)
    if not os.path.isdir(project):
        raise BuildError("project %s is not a directory" % project)
    if not isinstance(version, str) or not VERSION_RE.fullmatch(version) or ".." in version:
        raise BuildError("version=%r must match ^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$ without '..'" % (version,))
    name = name or os.path.basename(project)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
        raise BuildError("name=%r must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" % name)
    layout = resolve_layout(project, layout or "auto", wsgi_app)
    if build_commands and layout != "django":
        raise BuildError("zipapp_publish_build_commands are management commands of a Django project: the %s layout "
                         "has none" % layout)
    target_python = [str(v) for v in (target_python or [])]
    for v in target_python:
        if not TARGET_PYTHON_RE.fullmatch(v):
            raise BuildError("zipapp_publish_target_python=%r must be a CPython version such as \"3.13\" or "
                             "\"3.11.2\"" % (v,))
    if layout == "package":
        if bool(entry_point) == bool(console_script):
            raise BuildError("give exactly one of entry_point (module:function) and console_script")
        if entry_point and not ENTRY_POINT_RE.fullmatch(entry_point):
            raise BuildError("entry_point=%r must be module.path:function" % entry_point)
    else:
        if entry_point or console_script:
            raise BuildError("the %s layout runs the collection's launcher (serve, manage, version): "
                             "zipapp_publish_entry_point and zipapp_publish_console_script are for packages" % layout)
        if not requirements:
            raise BuildError("the %s layout needs zipapp_publish_requirements: the server and %s must be pinned "
                             "there" % (layout, "Django" if layout == "django" else "the app's dependencies"))
    if layout == "django":
        if not django_settings:
            manage_py = os.path.join(project, "manage.py")
            text = ""
            if os.path.isfile(manage_py):
                with open(manage_py, encoding="utf-8") as f:
                    text = f.read()
            django_settings = settings_from_manage(text)
            if not django_settings:
                raise BuildError("%s: name the settings module with zipapp_publish_django_settings"
                                 % ("%s sets no DJANGO_SETTINGS_MODULE (os.environ.setdefault(...))" % manage_py
                                    if text else "%s has no manage.py" % project))
        if not MODULE_RE.fullmatch(django_settings) or not module_in_project(project, django_settings):
            raise BuildError("the Django settings %s (zipapp_publish_django_settings, default: read from manage.py) "
                             "are not a module of %s" % (django_settings, project))
    if layout == "wsgi":
        module, _sep, attr = (wsgi_app or "").partition(":")
        if not (MODULE_RE.fullmatch(module) and MODULE_RE.fullmatch(attr)):
            raise BuildError("zipapp_publish_wsgi_app=%r must be module:attribute, e.g. app:app" % (wsgi_app,))
        if not module_in_project(project, module):
            raise BuildError("zipapp_publish_wsgi_app=%s: %s is not a module of %s" % (wsgi_app, module, project))
    pins = {}
    req_path = None
    if requirements:
        req_path = requirements if os.path.isabs(requirements) else os.path.join(project, requirements)
        if not os.path.isfile(req_path):
            raise BuildError("requirements file %s does not exist (a relative zipapp_publish_requirements is relative "
                             "to zipapp_publish_project, %s)" % (req_path, project))
        with open(req_path) as f:
            pins = read_pins(f.read(), req_path)
    if layout in ("django", "wsgi"):
        check_server_pinned(pins, server, req_path)
        if layout == "django" and not pinned_name(pins, "django"):
            raise BuildError("Django is not pinned in %s (zipapp_publish_requirements): add Django==<version>"
                             % req_path)
    warnings = []
    if source_date_epoch in (None, ""):
        epoch, dirty = git_epoch(project, lambda argv, cwd: run(argv, cwd, None))
        if dirty:
            warnings.append("%s has changes that are not committed: this build is not reproducible from its last "
                            "commit" % project)
    else:
        epoch = check_epoch(source_date_epoch)
    file_name = "%s-%s.pyz" % (name, version)
    dest = os.path.join(os.path.abspath(dest_dir), file_name)
    result = dict(path=dest, dest_path=dest, file_name=file_name, name=name, version=version, source_date_epoch=epoch,
                  warnings=warnings, shiv_version=shiv_version, pip_version=pip_version or "bundled", layout=layout)
    if layout == "django":
        result["django_settings"] = django_settings
    before = sha256_file(dest) if os.path.isfile(dest) else None
    if check_mode:
        result.update(changed=before is None, sha256=before, built=False)
        return result

    build_dir = os.path.abspath(build_dir)
    makedirs(build_dir, 0o755)
    env = build_env(epoch, base={})
    venv = os.path.join(build_dir, "venv")
    vpy = os.path.join(venv, "bin", "python")
    staging = os.path.join(build_dir, "staging", name)
    out_dir = os.path.join(build_dir, "out")
    with Lock(os.path.join(build_dir, ".lock")):
        result["venv_created"] = ensure_venv(venv, python, pip_version, shiv_version, run, env)
        probe = probe_python(run, vpy, env)
        python_label = "%s (%s)" % (python, interpreter_label(probe))
        result["python"] = python_label
        makedirs(os.path.dirname(staging), 0o755)
        makedirs(out_dir, 0o755)
        tmp = os.path.join(out_dir, file_name)
        for old in os.listdir(out_dir):  # what an earlier build left for the publish role to place
            if old.endswith(".pyz"):
                os.unlink(os.path.join(out_dir, old))
        kept = False
        try:
            if layout == "package":
                copy_project(project, staging)
                if version_file:
                    write_version_file(staging, version_file, version)
                cmd = shiv_command(venv, tmp, staging, req_path, entry_point, console_script, interpreter, compressed,
                                   compile_pyc, pip_args, shiv_args)
            else:
                config = dict(layout=layout, name=name, version=version, server=server)
                if layout == "django":
                    config["settings"] = django_settings
                else:
                    config["wsgi_app"] = wsgi_app
                staged = stage_site_packages(run, env, vpy, project, staging, req_path, pip_args, python_label, layout,
                                             django_settings, wsgi_app, server, collectstatic, dict(django_env or {}),
                                             list(exclude or ()), launcher, version_file, config,
                                             [list(c) for c in build_commands or ()])
                result.update(staged)
                cmd = shiv_command(venv, tmp, None, interpreter=interpreter, entry_point=LAUNCHER_MODULE + ":main",
                                   compressed=compressed, compile_pyc=compile_pyc, shiv_args=shiv_args,
                                   site_packages=staging)
            result["command"] = cmd
            rc, out, err = run(cmd, build_dir, env)
            if rc != 0:
                output = (out or "") + "\n" + (err or "")
                if layout == "package" and "Pip install failed" in (err or ""):
                    # shiv prints pip's output on its stdout and only "Pip install failed!" on stderr
                    output = (err or "").replace("Pip install failed!", "") + "\n" + (out or "")
                    raise BuildError(pip_failure("shiv's pip install", rc, output, python_label, run, vpy, pip_args,
                                                 env))
                raise BuildError("shiv failed (rc=%d) with the build interpreter %s; the last lines of its output:\n%s"
                                 % (rc, python_label, tail(output)))
            dists = zip_distributions(tmp)
            bad = unpinned(dists, pins)
            if bad:
                raise BuildError("%s installed distributions that the requirements do not pin: %s; pin every "
                                 "dependency, transitively (a lock file: pip-compile, uv pip compile, pip freeze)"
                                 % (file_name, ", ".join(bad)))
            if target_python:
                problems = check_target_pythons(tmp, probe, target_python)
                if problems:
                    raise BuildError(target_python_message(file_name, problems, python_label, target_python))
                result["target_python"] = target_python
            sha256 = sha256_file(tmp)
            result.update(sha256=sha256, size=os.path.getsize(tmp), built=True, previous_sha256=before,
                          distributions=["%s==%s" % (n, v) for n, v, _local in dists])
            if not place_artifact:
                result.update(path=tmp, changed=before != sha256 or (os.stat(dest).st_mode & 0o7777) != mode)
                kept = True
            elif before == sha256:
                result["changed"] = (os.stat(dest).st_mode & 0o7777) != mode
                os.chmod(dest, mode)
            else:
                place(tmp, dest, mode, 0o755)
                result["changed"] = True
        finally:
            if not kept and os.path.lexists(tmp):
                os.unlink(tmp)
            if os.path.lexists(staging):
                shutil.rmtree(staging)
    return result

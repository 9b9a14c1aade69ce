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
"""

import fcntl
import os
import re
import shutil
import stat
import zipfile

from ansible_collections.containerless.zipapp.plugins.module_utils._artifact import makedirs, place, sha256_file

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
                 interpreter="/usr/bin/env python3", compressed=True, compile_pyc=False, pip_args=(), shiv_args=()):
    """The shiv command line: ``--reproducible`` always, pip's arguments after ``--``-less shiv options."""
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
    cmd += ["--disable-pip-version-check", "--no-input"] + list(pip_args)
    if requirements:
        cmd += ["-r", requirements]
    cmd.append(source)
    return cmd


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


def build(project, version, dest_dir, build_dir, run, name=None, requirements="requirements.txt", version_file=None,
          entry_point=None, console_script=None, interpreter="/usr/bin/env python3", compressed=True,
          compile_pyc=False, python="python3", pip_version=PIP_VERSION, shiv_version=SHIV_VERSION,
          pip_args=("--only-binary=:all:",), shiv_args=(), source_date_epoch=None, mode=0o644, check_mode=False):
    """Build ``<dest_dir>/<name>-<version>.pyz``; ``run(argv, cwd, env)`` returns ``(rc, out, err)`` and runs
    with umask 022.  Returns a result dict; an existing identical file is left alone (changed False)."""
    project = os.path.abspath(project)
    if not os.path.isdir(project):
        raise BuildError("project %s is not a directory" % project)
    if not isinstance(version, str) or not VERSION_RE.fullmatch(version) or ".." in version:
        raise BuildError("version=%r must match ^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$ without '..'" % (version,))
    name = name or os.path.basename(project)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
        raise BuildError("name=%r must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" % name)
    if bool(entry_point) == bool(console_script):
        raise BuildError("give exactly one of entry_point (module:function) and console_script")
    if entry_point and not ENTRY_POINT_RE.fullmatch(entry_point):
        raise BuildError("entry_point=%r must be module.path:function" % entry_point)
    pins = {}
    req_path = None
    if requirements:
        req_path = requirements if os.path.isabs(requirements) else os.path.join(project, requirements)
        if not os.path.isfile(req_path):
            raise BuildError("requirements file %s does not exist" % req_path)
        with open(req_path) as f:
            pins = read_pins(f.read(), req_path)
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
    result = dict(path=dest, file_name=file_name, name=name, version=version, source_date_epoch=epoch,
                  warnings=warnings, shiv_version=shiv_version, pip_version=pip_version or "bundled")
    before = sha256_file(dest) if os.path.isfile(dest) else None
    if check_mode:
        result.update(changed=before is None, sha256=before, built=False)
        return result

    build_dir = os.path.abspath(build_dir)
    makedirs(build_dir, 0o755)
    env = build_env(epoch, base={})
    venv = os.path.join(build_dir, "venv")
    staging = os.path.join(build_dir, "staging", name)
    out_dir = os.path.join(build_dir, "out")
    with Lock(os.path.join(build_dir, ".lock")):
        result["venv_created"] = ensure_venv(venv, python, pip_version, shiv_version, run, env)
        makedirs(os.path.dirname(staging), 0o755)
        makedirs(out_dir, 0o755)
        copy_project(project, staging)
        if version_file:
            write_version_file(staging, version_file, version)
        tmp = os.path.join(out_dir, file_name)
        if os.path.lexists(tmp):
            os.unlink(tmp)
        cmd = shiv_command(venv, tmp, staging, req_path, entry_point, console_script, interpreter, compressed,
                           compile_pyc, pip_args, shiv_args)
        result["command"] = cmd
        try:
            rc, out, err = run(cmd, build_dir, env)
            if rc != 0:
                raise BuildError("shiv failed (rc=%d): %s" % (rc, (err or out).strip()[-3000:]))
            dists = zip_distributions(tmp)
            bad = unpinned(dists, pins)
            if bad:
                raise BuildError("%s installed distributions that the requirements do not pin: %s; pin every "
                                 "dependency, transitively (a lock file: pip-compile, uv pip compile, pip freeze)"
                                 % (file_name, ", ".join(bad)))
            sha256 = sha256_file(tmp)
            result.update(sha256=sha256, size=os.path.getsize(tmp), built=True, previous_sha256=before,
                          distributions=["%s==%s" % (n, v) for n, v, _local in dists])
            if before == sha256:
                result["changed"] = (os.stat(dest).st_mode & 0o7777) != mode
                os.chmod(dest, mode)
            else:
                place(tmp, dest, mode, 0o755)
                result["changed"] = True
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
            if os.path.lexists(staging):
                shutil.rmtree(staging)
    return result

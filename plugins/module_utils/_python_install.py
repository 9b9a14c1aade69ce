# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Install a python-build-standalone ``install_only`` tarball as ``<prefix>/<version>/``.

This is a private module_utils file: its interface may change without notice.

An ``install_only`` tarball holds one tree, ``python/`` (``python/bin/python3.X``,
``python/lib/python3.X/``).  It is extracted into a temporary directory next to the destination,
its modes are set so that any user can run it (whatever the umask), the interpreter is started
(as an unprivileged user when we are root) and must import the required modules and report the
expected version, and only then is the tree renamed to its destination in one ``rename(2)``.
A failure anywhere removes the temporary directory: the destination either does not exist or is a
complete, checked install.  An existing destination is never modified.
"""

import errno
import os
import posixpath
import pwd
import re
import shutil
import subprocess
import tarfile
import tempfile

from ansible_collections.containerless.zipapp.plugins.module_utils._artifact import fsync_dir, makedirs

VERSION_RE = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)((?:a|b|rc)[0-9]+)?")
MINOR_RE = re.compile(r"[0-9]+\.[0-9]+")  # what an interpreter installed by other means may be asked for
MODULE_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
DEFAULT_IMPORTS = ("ssl", "sqlite3", "zlib", "ctypes", "json")
TOP = "python"
TEMP_PREFIX = ".zipapp-python-"
CHECK_TIMEOUT = 120


class PythonInstallError(Exception):
    """The install cannot proceed; the message says why.  Nothing was changed."""


def minor_version(version):
    """``3.13`` for ``3.13.5`` (or ``3.14.0rc1``); PythonInstallError for anything else."""
    m = VERSION_RE.fullmatch(version or "")
    if not m:
        raise PythonInstallError(
            "version %r is not a full CPython version such as '3.13.5' or '3.14.0rc1'" % (version,))
    return "%s.%s" % (m.group(1), m.group(2))


def executable_path(home, version):
    """The interpreter of an install in ``home``: ``<home>/bin/python3.X``."""
    return os.path.join(home, "bin", "python" + minor_version(version))


def check_imports(imports):
    bad = [m for m in imports if not isinstance(m, str) or not MODULE_NAME_RE.fullmatch(m)]
    if bad:
        raise PythonInstallError("imports must be module names such as 'ssl' or 'xml.etree', got %r" % (bad,))
    return list(imports)


def check_program(imports):
    """The code run by the smoke test: import everything, print the version."""
    names = ", ".join(["platform"] + check_imports(imports))
    return "import %s; print(platform.python_version())" % names


def _unprivileged(user):
    """A ``preexec_fn`` that drops to ``user`` (only when we are root), or None."""
    if not user or os.geteuid() != 0:
        return None, None
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise PythonInstallError("the check user %r does not exist on the host (set check_as to another "
                                 "user, or to '' to check as root)" % user)

    def drop():
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)

    return drop, user


def run_check(executable, version, imports, user=None, timeout=CHECK_TIMEOUT):
    """Start ``executable`` in isolated mode: it must import ``imports`` and report ``version``.

    Runs as ``user`` when we are root, so a tree that only root can read fails here rather than in the
    service.  Returns the version it printed; raises PythonInstallError otherwise.
    """
    preexec, as_user = _unprivileged(user)
    argv = [executable, "-I", "-B", "-c", check_program(imports)]
    who = " as %s" % as_user if as_user else ""
    try:
        # run_command cannot: the check runs as another user (preexec_fn), in a clean environment, with a timeout
        # pylint: disable-next=ansible-bad-function
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/",
                                env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}, preexec_fn=preexec)
    except OSError as e:
        raise PythonInstallError("cannot start %s%s: %s" % (executable, who, e.strerror or e))
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise PythonInstallError("%s%s did not finish its check within %d s" % (executable, who, timeout))
    out = out.decode("utf-8", "replace").strip()
    err = err.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        tail = err.splitlines()[-3:] if err else []
        raise PythonInstallError("%s%s failed its check (import %s), exit %d: %s"
                                 % (executable, who, ", ".join(imports), proc.returncode,
                                    " | ".join(tail) or "no output"))
    if not version_matches(out, version):
        raise PythonInstallError("%s reports Python %s, not %s" % (executable, out or "(nothing)", version))
    return out


def version_matches(reported, wanted):
    """A full ``wanted`` (``3.13.5``) must match exactly; ``3.11`` admits any ``3.11.x``."""
    if VERSION_RE.fullmatch(wanted or ""):
        return reported == wanted
    return reported.startswith(wanted + ".")


def check_executable(executable, version, imports=DEFAULT_IMPORTS, user=None):
    """Check an interpreter installed by other means (the distribution's packages) as ``run_check`` does.

    ``version`` is a full version or ``X.Y``.  Returns the version it reported.
    """
    if not (MINOR_RE.fullmatch(version or "") or VERSION_RE.fullmatch(version or "")):
        raise PythonInstallError("version %r is neither a full CPython version such as '3.13.5' nor a "
                                 "minor version such as '3.11'" % (version,))
    if not os.path.isabs(executable):
        raise PythonInstallError("executable must be an absolute path, got %r" % (executable,))
    if not os.path.isfile(executable):
        raise PythonInstallError("%s is not installed (no such file)" % executable)
    return run_check(executable, version, imports, user)


def _norm(name):
    """Normalise a member name: no leading ``./``, no trailing ``/``."""
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/")


def check_member(member):
    """Raise PythonInstallError unless ``member`` is a safe part of the ``python/`` tree."""
    name = _norm(member.name)
    parts = name.split("/")
    if not name or name.startswith("/") or ".." in parts or parts[0] != TOP or "\x00" in name:
        raise PythonInstallError("the tarball is not an install_only tree: member %r is outside python/"
                                 % member.name)
    if member.isdir() or member.isreg():
        return name
    if member.issym():
        target = member.linkname
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
        if target.startswith("/") or not (resolved == TOP or resolved.startswith(TOP + "/")):
            raise PythonInstallError("the tarball's symlink %s -> %s points outside python/" % (name, target))
        return name
    if member.islnk():
        target = _norm(member.linkname)
        tparts = target.split("/")
        if target.startswith("/") or ".." in tparts or tparts[0] != TOP:
            raise PythonInstallError("the tarball's hard link %s -> %s points outside python/" % (name, target))
        return name
    raise PythonInstallError("the tarball holds %s, which is neither a file, a directory nor a link"
                             % member.name)


def _extract_member(tar, member, name, root):
    """Extract one checked member below ``root`` without owners or modes from the tarball."""
    path = os.path.join(root, name)
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent)
    if member.isdir():
        if not os.path.isdir(path):
            os.mkdir(path)
        return
    if os.path.lexists(path):
        if os.path.isdir(path) and not os.path.islink(path):
            raise PythonInstallError("the tarball holds %s twice, as a directory and as a file" % name)
        os.unlink(path)
    if member.issym():
        os.symlink(member.linkname, path)
        return
    if member.islnk():
        os.link(os.path.join(root, _norm(member.linkname)), path)
        return
    src = tar.extractfile(member)
    with open(path, "wb") as out:
        shutil.copyfileobj(src, out, 1024 * 1024)
    # Executable for everyone when it was executable in the tarball; never setuid/setgid/writable.
    os.chmod(path, 0o755 if member.mode & 0o111 else 0o644)
    os.utime(path, (member.mtime, member.mtime))  # the .pyc files record their source's mtime


def extract(src, root):
    """Extract the ``install_only`` tarball ``src`` into ``root`` (which must exist); return the tree."""
    dirs = []
    try:
        tar = tarfile.open(src, "r|*")
    except (tarfile.TarError, IOError, OSError) as e:
        raise PythonInstallError("cannot read %s as a tarball: %s" % (src, e))
    try:
        for member in tar:
            name = check_member(member)
            _extract_member(tar, member, name, root)
            if member.isdir():
                dirs.append((name, member.mtime))
    except tarfile.TarError as e:
        raise PythonInstallError("%s is not a valid tarball: %s" % (src, e))
    except (IOError, OSError) as e:
        if e.errno == errno.ENOSPC:
            raise PythonInstallError("no space left on device in %s while extracting %s" % (root, src))
        raise PythonInstallError("extracting %s into %s failed: %s" % (src, root, e))
    finally:
        tar.close()
    tree = os.path.join(root, TOP)
    fix_modes(tree)
    for name, mtime in sorted(dirs, reverse=True):  # deepest first: setting one does not touch its parent's
        os.utime(os.path.join(root, name), (mtime, mtime))
    return tree


def fix_modes(tree):
    """Directories 0755 (files got 0755/0644 when extracted): readable and runnable by every user."""
    if not os.path.isdir(tree):
        return
    os.chmod(tree, 0o755)
    for dirpath, dirnames, _files in os.walk(tree):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            if not os.path.islink(p):
                os.chmod(p, 0o755)


def check_layout(tree, version):
    """The extracted tree must be python/bin/python3.X + python/lib/python3.X/."""
    minor = minor_version(version)
    exe = os.path.join(tree, "bin", "python" + minor)
    stdlib = os.path.join(tree, "lib", "python" + minor)
    missing = [p for p, ok in ((exe, os.path.isfile(exe)), (stdlib, os.path.isdir(stdlib))) if not ok]
    if missing:
        found = sorted(os.listdir(os.path.join(tree, "bin"))) if os.path.isdir(os.path.join(tree, "bin")) else []
        raise PythonInstallError(
            "the tarball is not an install_only build of Python %s: %s missing (python/bin has %s)"
            % (version, " and ".join(os.path.relpath(p, os.path.dirname(tree)) for p in missing),
               ", ".join(found[:12]) or "nothing"))
    return exe


def probe(home, version, imports=DEFAULT_IMPORTS, user=None):
    """State of ``home``: ``None`` when absent, else the checked interpreter path.

    An existing ``home`` that is not a working Python ``version`` is an error: it is never touched.
    """
    exe = executable_path(home, version)
    if not os.path.lexists(home):
        return None
    if not os.path.isdir(home):
        raise PythonInstallError("%s exists and is not a directory; move it away to install Python %s there"
                                 % (home, version))
    if not os.path.isfile(exe):
        raise PythonInstallError("%s exists but has no %s: it is not a Python %s install; move it away to "
                                 "install there" % (home, os.path.relpath(exe, home), version))
    try:
        run_check(exe, version, imports, user)
    except PythonInstallError as e:
        raise PythonInstallError("%s exists but is not a working Python %s (%s); move it away to reinstall"
                                 % (home, version, e))
    return exe


def install(src, home, version, imports=DEFAULT_IMPORTS, user=None, dir_mode=0o755):
    """Install the tarball ``src`` as ``home``; return the interpreter path.

    ``home`` must not exist.  Everything happens in a temporary directory next to ``home``, renamed
    into place only after the check passed; on failure the temporary directory is removed.
    """
    minor_version(version)
    check_imports(imports)
    if os.path.lexists(home):
        raise PythonInstallError("%s already exists" % home)
    parent = os.path.dirname(os.path.abspath(home))
    created = makedirs(parent, dir_mode)
    work = tempfile.mkdtemp(prefix=TEMP_PREFIX + os.path.basename(home) + "-", dir=parent)
    done = False
    try:
        os.chmod(work, 0o755)  # an unprivileged user must reach the tree for the check
        tree = extract(src, work)
        if not os.path.isdir(tree):
            raise PythonInstallError("the tarball %s has no python/ directory: not an install_only build" % src)
        tmp_exe = check_layout(tree, version)
        run_check(tmp_exe, version, imports, user)
        if hasattr(os, "sync"):
            os.sync()  # the tree is on disk before its name is
        try:
            os.rename(tree, home)
        except OSError as e:
            if e.errno in (errno.EEXIST, errno.ENOTEMPTY):
                raise PythonInstallError("%s appeared while Python %s was being installed; it was left alone"
                                         % (home, version))
            raise
        fsync_dir(parent)
        done = True
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not done:
            for d in created:  # the directories made for this install (deepest first), if still empty
                try:
                    os.rmdir(d)
                except OSError:
                    break
    return executable_path(home, version)

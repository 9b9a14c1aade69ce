"""_python_install: extract an install_only tarball next to the destination, check it, rename it in."""

import io
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _python_install as pi

VERSION = "3.13.5"
MTIME = 1600000000
SYSTEM_PYTHON = "/usr/bin/python3"


def fake_interpreter(version=VERSION, body=None):
    """A stand-in interpreter: prints ``version`` (or runs ``body``) whatever its arguments."""
    return ("#!/bin/sh\n" + (body if body is not None else "echo %s\n" % version)).encode()


def add(tar, name, data=b"", mode=0o644, kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = MTIME
    info.uid = info.gid = 4242  # owners in a tarball are never applied
    if kind == tarfile.REGTYPE:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        info.linkname = linkname
        tar.addfile(info)


def make_tarball(path, minor="3.13", interpreter=None, extra=None, compression="gz"):
    """An install_only-like tree: python/bin/python3.X, its usual link, python/lib/python3.X/."""
    with tarfile.open(path, "w:" + compression) as tar:
        add(tar, "python", kind=tarfile.DIRTYPE, mode=0o700)
        add(tar, "python/bin", kind=tarfile.DIRTYPE, mode=0o700)
        add(tar, "python/bin/python" + minor, interpreter or fake_interpreter(), mode=0o4700)
        add(tar, "python/bin/python3", kind=tarfile.SYMTYPE, linkname="python" + minor)
        add(tar, "python/lib", kind=tarfile.DIRTYPE, mode=0o700)
        add(tar, "python/lib/python%s/os.py" % minor, b"# os\n", mode=0o666)
        add(tar, "python/lib/python%s/__pycache__/os.cpython.pyc" % minor, b"pyc", mode=0o600)
        add(tar, "python/lib/libpython%s.so.1.0" % minor, b"\x7fELF", mode=0o755)
        add(tar, "python/lib/libpython%s.so" % minor, kind=tarfile.SYMTYPE, linkname="libpython%s.so.1.0" % minor)
        for item in extra or []:
            add(tar, **item)
    return str(path)


@pytest.fixture
def umask077():
    old = os.umask(0o077)
    yield
    os.umask(old)


@pytest.fixture
def prefix():
    """A prefix whose parents every user can traverse (pytest's tmp_path is 0700 for root)."""
    base = tempfile.mkdtemp(prefix="zipapp-python-unit-", dir="/var/tmp")
    os.chmod(base, 0o755)
    yield os.path.join(base, "python")
    shutil.rmtree(base)


def leftovers(prefix):
    return [n for n in os.listdir(prefix) if n.startswith(pi.TEMP_PREFIX)] if os.path.isdir(prefix) else []


# --- versions and names ------------------------------------------------------------------------

@pytest.mark.parametrize("version, minor", [("3.13.5", "3.13"), ("3.9.13", "3.9"), ("3.14.0rc1", "3.14"),
                                            ("3.15.0a2", "3.15"), ("3.10.18", "3.10")])
def test_minor_version(version, minor):
    assert pi.minor_version(version) == minor
    assert pi.executable_path("/opt/python/" + version, version) == "/opt/python/%s/bin/python%s" % (version, minor)


@pytest.mark.parametrize("bad", ["3.13", "3", "", None, "3.13.5 ", "v3.13.5", "3.13.5+20250723", "3.13.x"])
def test_minor_version_refuses_partial_or_odd_versions(bad):
    with pytest.raises(pi.PythonInstallError, match="not a full CPython version"):
        pi.minor_version(bad)


def test_check_program_imports_then_prints_the_version():
    assert pi.check_program(["ssl", "xml.etree"]) == "import platform, ssl, xml.etree; print(platform.python_version())"


@pytest.mark.parametrize("bad", ["os; import shutil", "ssl,zlib", "", "1abc", "a..b", 3])
def test_check_program_refuses_anything_but_module_names(bad):
    with pytest.raises(pi.PythonInstallError, match="module names"):
        pi.check_program(["ssl", bad])


# --- tarball members -----------------------------------------------------------------------------

def member(name, kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


@pytest.mark.parametrize("name, kind, linkname", [
    ("python", tarfile.DIRTYPE, ""),
    ("./python/bin/", tarfile.DIRTYPE, ""),
    ("python/bin/python3.13", tarfile.REGTYPE, ""),
    ("python/bin/python3", tarfile.SYMTYPE, "python3.13"),
    ("python/lib/python3.13/site-packages/x", tarfile.SYMTYPE, "../../../bin/python3"),
    ("python/bin/pip", tarfile.LNKTYPE, "python/bin/pip3"),
])
def test_members_inside_the_tree_pass(name, kind, linkname):
    assert pi.check_member(member(name, kind, linkname)).startswith("python")


@pytest.mark.parametrize("name, kind, linkname, fragment", [
    ("/etc/passwd", tarfile.REGTYPE, "", "outside python/"),
    ("python/../../etc/cron.d/x", tarfile.REGTYPE, "", "outside python/"),
    ("etc/x", tarfile.REGTYPE, "", "outside python/"),
    ("pythonx/bin/python3", tarfile.REGTYPE, "", "outside python/"),
    ("python/bin/sh", tarfile.SYMTYPE, "/bin/sh", "points outside"),
    ("python/bin/x", tarfile.SYMTYPE, "../../etc/shadow", "points outside"),
    ("python/bin/x", tarfile.LNKTYPE, "/etc/shadow", "points outside"),
    ("python/bin/x", tarfile.LNKTYPE, "etc/shadow", "points outside"),
    ("python/dev/null", tarfile.CHRTYPE, "", "neither a file"),
    ("python/fifo", tarfile.FIFOTYPE, "", "neither a file"),
])
def test_members_that_escape_or_are_devices_are_refused(name, kind, linkname, fragment):
    with pytest.raises(pi.PythonInstallError, match=fragment):
        pi.check_member(member(name, kind, linkname))


# --- install ---------------------------------------------------------------------------------------

def test_install_extracts_checks_and_renames_with_modes_for_everyone(tmp_path, prefix, umask077):
    src = make_tarball(tmp_path / "cpython.tar.gz")
    home = os.path.join(prefix, VERSION)
    exe = pi.install(src, home, VERSION, imports=["json"], user="nobody")
    assert exe == home + "/bin/python3.13"
    assert os.path.isdir(home) and leftovers(prefix) == []

    def mode(p):
        return stat.S_IMODE(os.lstat(os.path.join(home, p)).st_mode)

    # umask 077 and the tarball's 0700/0600/setuid modes do not matter: every user can read and run it
    assert mode(".") == mode("bin") == mode("lib/python3.13/__pycache__") == 0o755
    assert mode("bin/python3.13") == 0o755  # executable, and the setuid bit is gone
    assert mode("lib/libpython3.13.so.1.0") == 0o755
    assert mode("lib/python3.13/os.py") == mode("lib/python3.13/__pycache__/os.cpython.pyc") == 0o644
    assert stat.S_IMODE(os.stat(prefix).st_mode) == 0o755
    assert os.readlink(home + "/bin/python3") == "python3.13"
    assert os.readlink(home + "/lib/libpython3.13.so") == "libpython3.13.so.1.0"
    # mtimes survive (a .pyc records its source's mtime), owners are ours, not the tarball's
    assert os.stat(home + "/lib/python3.13/os.py").st_mtime == MTIME
    assert os.stat(home + "/lib").st_mtime == MTIME  # directories too (python3.13/ has no member: now)
    assert os.stat(home + "/bin/python3.13").st_uid == os.geteuid()


@pytest.mark.parametrize("compression", ["gz", "xz", "bz2"])
def test_install_reads_every_usual_compression(tmp_path, prefix, compression):
    src = make_tarball(tmp_path / ("cpython.tar." + compression), compression=compression)
    assert os.path.isfile(pi.install(src, os.path.join(prefix, VERSION), VERSION, imports=[]))


@pytest.mark.skipif(not os.path.exists(SYSTEM_PYTHON), reason="needs " + SYSTEM_PYTHON)
def test_install_really_imports_the_modules_with_a_real_interpreter(tmp_path, prefix):
    version = subprocess.check_output([SYSTEM_PYTHON, "-c", "import platform; print(platform.python_version())"],
                                      universal_newlines=True).strip()
    minor = pi.minor_version(version)
    wrapper = fake_interpreter(body='exec %s "$@"\n' % SYSTEM_PYTHON)
    src = make_tarball(tmp_path / "real.tar.gz", minor=minor, interpreter=wrapper)
    home = os.path.join(prefix, version)
    assert pi.install(src, home, version, user="nobody") == home + "/bin/python" + minor
    with pytest.raises(pi.PythonInstallError, match="No module named 'no_such_module'"):
        pi.install(src, os.path.join(prefix, "other"), version, imports=["json", "no_such_module"])
    assert leftovers(prefix) == [] and not os.path.exists(os.path.join(prefix, "other"))


def test_a_failing_check_leaves_nothing(tmp_path, prefix):
    broken = fake_interpreter(body="echo \"ModuleNotFoundError: No module named '_ssl'\" >&2\nexit 1\n")
    src = make_tarball(tmp_path / "broken.tar.gz", interpreter=broken)
    with pytest.raises(pi.PythonInstallError, match=r"failed its check .*exit 1: .*No module named '_ssl'"):
        pi.install(src, os.path.join(prefix, VERSION), VERSION)
    assert not os.path.exists(prefix)  # the prefix made for this install is gone too


def test_a_version_mismatch_leaves_nothing(tmp_path, prefix):
    os.makedirs(prefix)
    src = make_tarball(tmp_path / "other.tar.gz", interpreter=fake_interpreter("3.13.4"))
    with pytest.raises(pi.PythonInstallError, match="reports Python 3.13.4, not 3.13.5"):
        pi.install(src, os.path.join(prefix, VERSION), VERSION)
    assert os.listdir(prefix) == []


def test_the_wrong_minor_is_not_an_install_only_tree(tmp_path, prefix):
    src = make_tarball(tmp_path / "py312.tar.gz", minor="3.12")
    with pytest.raises(pi.PythonInstallError, match=r"not an install_only build of Python 3.13.5: "
                                                    r"python/bin/python3.13 .*missing \(python/bin has python3, "
                                                    r"python3.12\)"):
        pi.install(src, os.path.join(prefix, VERSION), VERSION)
    assert not os.path.exists(prefix)


def test_an_escaping_member_stops_the_install_and_leaves_nothing(tmp_path, prefix):
    evil = [dict(name="python/../../../tmp/zipapp-python-evil", data=b"x")]
    src = make_tarball(tmp_path / "evil.tar.gz", extra=evil)
    with pytest.raises(pi.PythonInstallError, match="outside python/"):
        pi.install(src, os.path.join(prefix, VERSION), VERSION)
    assert not os.path.exists(prefix)
    assert not os.path.exists("/tmp/zipapp-python-evil")


def test_not_a_tarball(tmp_path, prefix):
    src = tmp_path / "junk.tar.gz"
    src.write_bytes(b"<html>404</html>")
    with pytest.raises(pi.PythonInstallError, match="cannot read .* as a tarball"):
        pi.install(str(src), os.path.join(prefix, VERSION), VERSION)
    assert not os.path.exists(prefix)


def test_a_tree_only_root_can_reach_fails_the_unprivileged_check(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("runs the check as nobody only when root")
    locked = tmp_path / "locked"  # pytest's tmp_path: 0700, owned by root
    os.makedirs(str(locked))
    os.chmod(str(tmp_path), 0o700)
    src = make_tarball(tmp_path / "cpython.tar.gz")
    with pytest.raises(pi.PythonInstallError, match="as nobody"):
        pi.install(src, str(locked / VERSION), VERSION, user="nobody")
    assert os.listdir(str(locked)) == []


def test_an_unknown_check_user_is_named(tmp_path, prefix):
    if os.geteuid() != 0:
        pytest.skip("the check user matters only for root")
    src = make_tarball(tmp_path / "cpython.tar.gz")
    with pytest.raises(pi.PythonInstallError, match="check user 'no-such-user-zp' does not exist"):
        pi.install(src, os.path.join(prefix, VERSION), VERSION, user="no-such-user-zp")


def test_install_never_replaces_an_existing_destination(tmp_path, prefix):
    home = os.path.join(prefix, VERSION)
    os.makedirs(home)
    with pytest.raises(pi.PythonInstallError, match="already exists"):
        pi.install(make_tarball(tmp_path / "c.tar.gz"), home, VERSION)
    assert os.listdir(home) == []


# --- probe -----------------------------------------------------------------------------------------

def test_probe_absent_installed_and_broken(tmp_path, prefix):
    home = os.path.join(prefix, VERSION)
    assert pi.probe(home, VERSION) is None
    pi.install(make_tarball(tmp_path / "c.tar.gz"), home, VERSION, imports=[])
    before = sorted(os.walk(home))
    assert pi.probe(home, VERSION, imports=[], user="nobody") == home + "/bin/python3.13"
    assert sorted(os.walk(home)) == before
    with pytest.raises(pi.PythonInstallError, match="reports Python 3.13.5, not 3.13.6.*move it away"):
        os.rename(home, os.path.join(prefix, "3.13.6"))
        pi.probe(os.path.join(prefix, "3.13.6"), "3.13.6")


def test_probe_refuses_a_file_or_a_foreign_directory(prefix):
    os.makedirs(os.path.join(prefix, "3.12.1", "bin"))
    with pytest.raises(pi.PythonInstallError, match="has no bin/python3.12: it is not a Python 3.12.1 install"):
        pi.probe(os.path.join(prefix, "3.12.1"), "3.12.1")
    open(os.path.join(prefix, "3.11.9"), "w").close()
    with pytest.raises(pi.PythonInstallError, match="is not a directory"):
        pi.probe(os.path.join(prefix, "3.11.9"), "3.11.9")

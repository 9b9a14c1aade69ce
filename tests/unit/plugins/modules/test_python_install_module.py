"""zipapp_python_install as Ansible runs it: query, check mode, install, idempotence, failures."""

import io
import json
import os
import shutil
import tarfile
import tempfile

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.containerless.zipapp.plugins.modules import zipapp_python_install as module

VERSION = "3.13.5"


def tarball(path, version=VERSION, ok=True):
    minor = ".".join(version.split(".")[:2])
    script = ("#!/bin/sh\necho %s\n" % version) if ok else "#!/bin/sh\necho 'ImportError: _ctypes' >&2\nexit 1\n"
    with tarfile.open(str(path), "w:gz") as tar:
        for name, data, mode in (("python/bin/python" + minor, script.encode(), 0o755),
                                 ("python/lib/python%s/os.py" % minor, b"", 0o644)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return str(path)


def run(capsys, **args):
    """Run the module's main(); return (failed, result)."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    result = json.loads(capsys.readouterr().out)
    return exc.value.code != 0, result


@pytest.fixture
def prefix():
    base = tempfile.mkdtemp(prefix="zipapp-python-unit-", dir="/var/tmp")
    os.chmod(base, 0o755)
    yield os.path.join(base, "python")
    shutil.rmtree(base)


def test_query_reports_an_absent_version_without_changing_anything(capsys, prefix):
    failed, res = run(capsys, dest=prefix + "/" + VERSION, version=VERSION)
    assert not failed
    assert (res["changed"], res["installed"]) == (False, False)
    assert res["executable"] == prefix + "/3.13.5/bin/python3.13"
    assert not os.path.exists(prefix)


def test_check_mode_reports_the_install_and_touches_nothing(capsys, prefix, tmp_path):
    src = tarball(tmp_path / "c.tar.gz")
    failed, res = run(capsys, dest=prefix + "/" + VERSION, version=VERSION, src=src, remove_src=True,
                      _ansible_check_mode=True)
    assert not failed and res["changed"] and not res["installed"]
    assert not os.path.exists(prefix) and os.path.exists(src)


def test_install_then_rerun_is_unchanged(capsys, prefix, tmp_path):
    src = tarball(tmp_path / "c.tar.gz")
    failed, res = run(capsys, dest=prefix + "/" + VERSION, version=VERSION, src=src, remove_src=True,
                      imports=["json"])
    assert not failed and res["changed"] and not res["installed"]
    assert os.access(res["executable"], os.X_OK)
    assert not os.path.exists(src)  # the download is removed once installed
    failed, res = run(capsys, dest=prefix + "/" + VERSION, version=VERSION, imports=["json"])
    assert not failed and not res["changed"] and res["installed"]
    # a second tarball for an installed version is not even opened
    failed, res = run(capsys, dest=prefix + "/" + VERSION, version=VERSION, src="/nonexistent.tar.gz")
    assert not failed and not res["changed"] and res["installed"]


def test_two_versions_side_by_side(capsys, prefix, tmp_path):
    for version in ("3.9.13", VERSION):
        failed, res = run(capsys, dest=prefix + "/" + version, version=version,
                          src=tarball(tmp_path / (version + ".tar.gz"), version))
        assert not failed and res["changed"]
    assert sorted(os.listdir(prefix)) == ["3.13.5", "3.9.13"]


def test_a_broken_tarball_fails_changes_nothing_and_drops_the_download(capsys, prefix, tmp_path):
    os.makedirs(prefix)
    src = tarball(tmp_path / "bad.tar.gz", ok=False)
    failed, res = run(capsys, dest=prefix + "/" + VERSION, version=VERSION, src=src, remove_src=True)
    assert failed and not res["changed"]
    assert "failed its check" in res["msg"] and "ImportError: _ctypes" in res["msg"]
    assert res["msg"].endswith("%s/3.13.5 was not changed" % prefix)
    assert os.listdir(prefix) == [] and not os.path.exists(src)


@pytest.mark.parametrize("args, fragment", [
    (dict(dest="relative/3.13.5", version=VERSION), "absolute path"),
    (dict(dest="/", version=VERSION), "absolute path other than /"),
    (dict(dest="/opt/python/3.13", version="3.13"), "not a full CPython version"),
    (dict(dest="/opt/python/3.13.5", version=VERSION, imports=["os;import x"]), "module names"),
])
def test_bad_arguments_fail_before_anything(capsys, args, fragment):
    failed, res = run(capsys, **args)
    assert failed and fragment in res["msg"]


def interpreter(path, prints, ok=True):
    """A stand-in interpreter installed by other means: a script that prints a version (or fails)."""
    body = ("echo %s\n" % prints) if ok else "echo 'ModuleNotFoundError: _ssl' >&2\nexit 1\n"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize("version", ["3.11", "3.11.2"])
def test_executable_is_checked_and_nothing_changes(capsys, tmp_path, version):
    exe = interpreter(tmp_path / "python3.11", "3.11.2")
    failed, res = run(capsys, executable=exe, version=version, check_as="")
    assert not failed
    assert (res["changed"], res["installed"], res["executable"], res["version"]) == (False, True, exe, "3.11.2")
    assert os.listdir(str(tmp_path)) == ["python3.11"]


@pytest.mark.parametrize("prints, version, ok, fragment", [
    ("3.11.2", "3.1", True, "reports Python 3.11.2, not 3.1"),  # an unquoted 3.10 arrives as 3.1
    ("3.12.1", "3.11", True, "reports Python 3.12.1, not 3.11"),
    ("3.11.2", "3.11.3", True, "reports Python 3.11.2, not 3.11.3"),
    ("3.11.2", "3.11", False, "failed its check (import ssl, sqlite3, zlib, ctypes, json), exit 1"),
    ("3.11.2", "three", True, "neither a full CPython version"),
])
def test_a_failing_executable_fails_and_says_why(capsys, tmp_path, prints, version, ok, fragment):
    exe = interpreter(tmp_path / "python3", prints, ok)
    failed, res = run(capsys, executable=exe, version=version, check_as="")
    assert failed and not res["changed"] and not res["installed"]
    assert fragment in res["msg"] and res["msg"].endswith("; nothing was changed")


@pytest.mark.parametrize("args, fragment", [
    (dict(executable="/nonexistent/python3.11", version="3.11"), "/nonexistent/python3.11 is not installed"),
    (dict(executable="python3", version="3.11"), "absolute path"),
    (dict(executable="/usr/bin/python3", dest="/opt/python/3.11.2", version="3.11.2"), "mutually exclusive"),
    (dict(version="3.11"), "one of the following is required: dest, executable"),
])
def test_bad_executable_arguments_fail(capsys, args, fragment):
    failed, res = run(capsys, **args)
    assert failed and fragment in res["msg"]


def test_the_documentation_parses():
    import yaml
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert set(doc["options"]) == {"dest", "executable", "version", "src", "remove_src", "imports", "check_as"}
    yaml.safe_load(module.EXAMPLES)
    assert set(yaml.safe_load(module.RETURN)) == {"dest", "executable", "installed", "version"}

"""zipapp_info as Ansible runs it: describe, check against a real and a fake interpreter, fail, check mode."""

import json
import os
import stat
import sys
import zipfile

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.containerless.zipapp.plugins.modules import zipapp_info as module

ORJSON_TAG = "cp%d%d-cp%d%d-manylinux_2_17_x86_64.manylinux2014_x86_64" % (sys.version_info[:2] * 2)


def run(capsys, **args):
    """Run the module's main(); return (failed, result)."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    result = json.loads(capsys.readouterr().out)
    return exc.value.code != 0, result


def make_pyz(path):
    """A shiv-like pyz with a pure wheel and a compiled one built for the running CPython."""
    with open(path, "wb") as f:
        f.write(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("environment.json", json.dumps({"build_id": "b1d", "entry_point": "demoapp.__main__:main"}))
        zf.writestr("_bootstrap/__init__.py", "")
        for name, version, tag in (("orjson", "3.10.18", ORJSON_TAG), ("Django", "5.2.19", "py3-none-any")):
            info = "site-packages/%s-%s.dist-info/" % (name, version)
            zf.writestr(info + "METADATA", "Metadata-Version: 2.1\nName: %s\nVersion: %s\nRequires-Python: >=3.9\n"
                        % (name, version))
            zf.writestr(info + "WHEEL", "Wheel-Version: 1.0\nTag: %s\n" % tag)
    return str(path)


def fake_python(tmp_path, version):
    """An "interpreter" whose probe answers as CPython ``version`` on this machine's platform."""
    path = tmp_path / ("python" + version)
    major, minor, micro = (int(v) for v in version.split("."))
    path.write_text("""#!%s
import json, subprocess, sys
probe = json.loads(subprocess.check_output([%r] + sys.argv[1:]))
old, new = "%%d%%d" %% tuple(probe["version_info"][:2]), "%d%d"
probe.update(version_info=[%d, %d, %d, "final", 0], version=%r, py_version_nodot=new)
probe["soabi"] = (probe["soabi"] or "").replace(old, new)
probe["ext_suffix"] = (probe["ext_suffix"] or "").replace(old, new)
print(json.dumps(probe))
""" % (sys.executable, sys.executable, major, minor, major, minor, micro, version))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


needs_x86_64_glibc = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and os.uname()[4] == "x86_64"
         and (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")),
    reason="the compiled wheel is tagged for x86_64 glibc")


def test_describes_without_python(capsys, tmp_path):
    failed, res = run(capsys, path=make_pyz(tmp_path / "demo.pyz"))
    assert not failed and res["changed"] is False
    assert (res["kind"], res["build_id"], res["entry_point"], res["shebang"]) == \
        ("shiv", "b1d", "demoapp.__main__:main", "/usr/bin/env python3")
    assert [d["name"] for d in res["distributions"]] == ["Django", "orjson"]
    assert "compatible" not in res and "interpreter" not in res


@needs_x86_64_glibc
def test_the_running_python_can_run_it(capsys, tmp_path):
    failed, res = run(capsys, path=make_pyz(tmp_path / "demo.pyz"), python=sys.executable, fail_on_incompatible=True)
    assert not failed, res
    assert res["compatible"] is True and res["problems"] == []
    assert res["interpreter"]["version"] == "%d.%d.%d" % sys.version_info[:3]
    assert res["interpreter"]["implementation"] == "CPython"
    assert [c["tag"] for c in res["checked"]] == ["py3-none-any", ORJSON_TAG.split(".")[0]]


@needs_x86_64_glibc
def test_another_minor_version_is_reported_and_refused(capsys, tmp_path):
    pyz = make_pyz(tmp_path / "demoapp-1.1.0-orjson.pyz")
    other = "3.%d.5" % (sys.version_info[1] + 2)
    python = fake_python(tmp_path, other)
    failed, res = run(capsys, path=pyz, python=python)
    assert not failed
    assert res["compatible"] is False and len(res["problems"]) == 1
    assert res["problems"][0].startswith("orjson 3.10.18 has only %s wheels, none of which CPython %s" % (ORJSON_TAG, other))
    failed, res = run(capsys, path=pyz, python=python, fail_on_incompatible=True)
    assert failed
    assert res["msg"].startswith("demoapp-1.1.0-orjson.pyz cannot run on %s (CPython %s): orjson 3.10.18 has only "
                                 % (python, other))
    assert res["problems"] and res["compatible"] is False


def test_check_mode_changes_nothing(capsys, tmp_path):
    pyz = make_pyz(tmp_path / "demo.pyz")
    before = os.stat(pyz)
    failed, res = run(capsys, path=pyz, python=sys.executable, _ansible_check_mode=True)
    assert not failed and res["changed"] is False and "compatible" in res
    assert os.stat(pyz).st_mtime == before.st_mtime and sorted(os.listdir(str(tmp_path))) == ["demo.pyz"]


def test_failures(capsys, tmp_path):
    pyz = make_pyz(tmp_path / "demo.pyz")
    failed, res = run(capsys, path=pyz, fail_on_incompatible=True)
    assert failed and "python" in res["msg"]
    failed, res = run(capsys, path=str(tmp_path / "nope.pyz"))
    assert failed and res["msg"] == "%s does not exist or is not a file" % (tmp_path / "nope.pyz")
    junk = tmp_path / "junk.pyz"
    junk.write_bytes(b"junk")
    failed, res = run(capsys, path=str(junk))
    assert failed and "not a zip application" in res["msg"]
    failed, res = run(capsys, path=pyz, python=str(tmp_path / "python9"))
    assert failed and res["msg"] == "python=%s is not an executable file on this host" % (tmp_path / "python9")
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    broken.chmod(0o755)
    failed, res = run(capsys, path=pyz, python=str(broken))
    assert failed and res["msg"] == "the interpreter probe failed with %s (rc=3): boom" % broken

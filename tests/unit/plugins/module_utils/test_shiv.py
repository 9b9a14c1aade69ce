import json
import os
import stat
import subprocess
import sys
import zipfile

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _shiv

BOOTSTRAP = '''
import os, shutil
from pathlib import Path
def cache_path(archive, root_dir, build_id):
    return Path(root_dir) / ("%s_%s" % (Path(archive.filename).resolve().name, build_id))
def extract_site_packages(archive, target_path, compile_pyc=False, compile_workers=0, force=False):
    tmp = Path(str(target_path) + ".tmp")
    for info in archive.infolist():
        if info.filename.startswith("site-packages"):
            archive.extract(info.filename, tmp)
    shutil.move(str(tmp), str(target_path))
'''


def make_shiv(path, build_id="abc123"):
    """A minimal zip laid out like a shiv: environment.json, _bootstrap/ and site-packages/."""
    with open(path, "wb") as f:
        f.write(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("environment.json", json.dumps({"build_id": build_id, "entry_point": "app:main"}))
        zf.writestr("_bootstrap/__init__.py", BOOTSTRAP)
        zf.writestr("site-packages/app/__init__.py", "def main(): pass\n")
        zf.writestr("site-packages/app/data/x.txt", "x")
    return path


def test_inspect_shiv(tmp_path):
    info = _shiv.inspect(make_shiv(str(tmp_path / "demo.pyz")))
    assert info == {"kind": "shiv", "build_id": "abc123", "entry_point": "app:main",
                    "shebang": "/usr/bin/env python3", "shiv_version": None}


def test_inspect_plain_zipapp_and_garbage(tmp_path):
    plain = tmp_path / "plain.pyz"
    with zipfile.ZipFile(str(plain), "w") as zf:
        zf.writestr("__main__.py", "print(1)")
    assert _shiv.inspect(str(plain))["kind"] == "zipapp"
    junk = tmp_path / "junk.pyz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(_shiv.ZipappError, match="not a zip application"):
        _shiv.inspect(str(junk))
    empty = tmp_path / "empty.pyz"
    zipfile.ZipFile(str(empty), "w").close()
    with pytest.raises(_shiv.ZipappError, match="not a runnable zipapp"):
        _shiv.inspect(str(empty))


def test_inspect_pex_by_its_pex_info_whatever_its_name(tmp_path):
    pex = tmp_path / "demo.pyz"  # the name says pyz; PEX-INFO says pex
    with zipfile.ZipFile(str(pex), "w") as zf:
        zf.writestr("__main__.py", "print(1)")
        zf.writestr("PEX-INFO", json.dumps({"pex_hash": "f00d", "entry_point": "app:main", "includes_tools": True,
                                            "build_properties": {"pex_version": "2.105.2"}}))
    assert _shiv.inspect(str(pex)) == {"kind": "pex", "build_id": "f00d", "entry_point": "app:main", "shebang": None,
                                       "includes_tools": True, "pex_version": "2.105.2"}
    with zipfile.ZipFile(str(pex), "w") as zf:
        zf.writestr("__main__.py", "print(1)")
        zf.writestr("PEX-INFO", json.dumps({"code_hash": "c0de"}))
    info = _shiv.inspect(str(pex))
    assert (info["kind"], info["build_id"], info["includes_tools"]) == ("pex", "c0de", False)
    with zipfile.ZipFile(str(pex), "w") as zf:
        zf.writestr("PEX-INFO", "{not json")
    with pytest.raises(_shiv.ZipappError, match="PEX-INFO is not JSON"):
        _shiv.inspect(str(pex))


def test_the_pex_venv_is_built_by_the_pex_itself_inside_the_release():
    release = "/opt/zipapp/demo/releases/1.0.0"
    venv = _shiv.pex_venv_dir(release, "/usr/bin/python3")
    assert os.path.dirname(venv) == release and os.path.basename(venv).startswith("venv-")
    assert venv == _shiv.pex_venv_dir(release, "/usr/bin/python3")
    # another interpreter, another venv: the live one is never rebuilt under the running app
    assert venv != _shiv.pex_venv_dir(release, "/opt/python/3.13.5/bin/python3.13")
    marker = _shiv.pex_venv_marker(venv)
    assert os.path.dirname(marker) == release and marker != venv
    cmd = _shiv.pex_venv_command("/usr/bin/python3", release + "/demo.pyz", venv)
    assert cmd[:3] == ["/usr/bin/python3", release + "/demo.pyz", "venv"] and cmd[-1] == venv
    assert "--site-packages-copies" in cmd and "--compile" in cmd
    env = _shiv.pex_venv_env(release + "/.pex-root")
    assert env["PEX_TOOLS"] == "1" and env["PEX_ROOT"] == release + "/.pex-root"


def test_extract_command_uses_the_pyz_bootstrap_and_is_readable_under_umask_077(tmp_path):
    pyz = make_shiv(str(tmp_path / "demo.pyz"))
    root = str(tmp_path / "shiv")
    env = dict(os.environ)
    cmd = _shiv.extract_command(sys.executable, pyz, root)
    old = os.umask(0o077)
    try:
        out = subprocess.check_output(cmd, env=env)
    finally:
        os.umask(old)
    cache = json.loads(out)["cache"]
    assert cache == _shiv.cache_dir(root, pyz, "abc123")
    assert os.path.isfile(os.path.join(cache, "site-packages", "app", "data", "x.txt"))
    _shiv.make_readable(cache)
    for dirpath, dirnames, filenames in os.walk(cache):
        assert stat.S_IMODE(os.stat(dirpath).st_mode) & 0o055 == 0o055
        for name in filenames:
            assert stat.S_IMODE(os.stat(os.path.join(dirpath, name)).st_mode) & 0o044 == 0o044


def write_tree(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def compile_tree(new, prev=None):
    out = subprocess.check_output(_shiv.compile_command(sys.executable, new, prev))
    return json.loads(out)


def test_compile_reuses_the_previous_pycs_for_unchanged_files(tmp_path):
    import importlib.util

    old, new = str(tmp_path / "old"), str(tmp_path / "new")
    files = dict(("pkg/m%d.py" % i, "X = %d\n" % i) for i in range(100))
    files["pkg/__init__.py"] = ""
    files["pkg/broken.py"] = "def (:\n"
    write_tree(old, files)
    assert compile_tree(old) == {"linked": 0, "compiled": 101, "failed": 1}
    changed = dict(files, **{"pkg/m7.py": "X = 'seven'\n", "pkg/added.py": "Y = 1\n"})
    write_tree(new, changed)
    assert compile_tree(new, old) == {"linked": 100, "compiled": 2, "failed": 1}
    src = os.path.join(new, "pkg", "m3.py")
    old_src = os.path.join(old, "pkg", "m3.py")
    assert os.stat(importlib.util.cache_from_source(src)).st_ino == \
        os.stat(importlib.util.cache_from_source(old_src)).st_ino
    assert os.stat(importlib.util.cache_from_source(os.path.join(new, "pkg", "m7.py"))).st_ino != \
        os.stat(importlib.util.cache_from_source(os.path.join(old, "pkg", "m7.py"))).st_ino
    # a second run finds every pyc in place
    assert compile_tree(new, old) == {"linked": 0, "compiled": 0, "failed": 1}
    # the pycs are used as they are: the module imports from them, with its own file name
    code = "import sys; sys.path.insert(0, %r); import pkg.m7, pkg.m3; print(pkg.m7.X, pkg.m3.__file__)" % new
    out = subprocess.check_output([sys.executable, "-B", "-c", code]).decode().split()
    assert out == ["seven", src]


def test_markers_sit_next_to_the_cache():
    assert _shiv.lock_file("/r/shiv/demo.pyz_ab") == "/r/shiv/.demo.pyz_ab_lock"
    assert _shiv.compiled_marker("/r/shiv/demo.pyz_ab") == "/r/shiv/.demo.pyz_ab_compiled"

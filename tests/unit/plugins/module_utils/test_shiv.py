import json
import os
import stat
import subprocess
import sys
import zipfile

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _fs, _pex, _pyc, _shiv


def make_shiv(path, files=None, build_id="abc123"):
    """A minimal zip laid out like a shiv: environment.json, _bootstrap/ and site-packages/."""
    files = files if files is not None else {"app/__init__.py": "def main(): pass\n", "app/data/x.txt": "x"}
    with open(path, "wb") as f:
        f.write(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("environment.json", json.dumps({"build_id": build_id, "entry_point": "app:main"}))
        zf.writestr("_bootstrap/__init__.py", "")
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo("site-packages/" + name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name.endswith(".sh") else 0o600) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return str(path)


def tree(top):
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in filenames:
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, top)] = (open(full, "rb").read(), stat.S_IMODE(os.stat(full).st_mode),
                                               os.stat(full).st_ino)
    return out


def test_extract_lays_out_the_cache_like_shiv_with_readable_modes(tmp_path):
    pyz = make_shiv(tmp_path / "demo.pyz", {"app/__init__.py": "x = 1\n", "app/run.sh": "#!/bin/sh\n"})
    cache = _shiv.cache_dir(str(tmp_path / "shiv"), pyz, "abc123")
    assert cache == str(tmp_path / "shiv" / "demo.pyz_abc123")
    os.makedirs(os.path.dirname(cache))
    counts = _shiv.extract(pyz, cache)
    assert counts == {"written": 2, "linked": 0, "pyc_linked": 0, "shared": 0, "stored": 0}
    files = tree(cache)
    assert files["site-packages/app/__init__.py"][:2] == (b"x = 1\n", 0o644)  # 0600 in the zip: readable anyway
    assert files["site-packages/app/run.sh"][1] == 0o755
    assert not os.path.exists(cache + ".tmp")
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o755


def test_unchanged_files_and_their_pycs_are_linked_from_the_live_cache(tmp_path):
    shiv_root = tmp_path / "shiv"
    os.makedirs(str(shiv_root))
    old_files = {"lib/same.py": "A = 1\n" * 50, "lib/changed.py": "B = 1\n", "lib/gone.py": "C = 1\n"}
    old = make_shiv(tmp_path / "old.pyz", old_files, "old")
    old_cache = _shiv.cache_dir(str(shiv_root), old, "old")
    _shiv.extract(old, old_cache)
    pycache = os.path.join(old_cache, "site-packages", "lib", "__pycache__")
    os.makedirs(pycache)
    with open(os.path.join(pycache, "same.cpython-311.pyc"), "wb") as f:
        f.write(b"pyc of same")
    with open(os.path.join(pycache, "changed.cpython-311.pyc"), "wb") as f:
        f.write(b"pyc of changed")
    new_files = {"lib/same.py": "A = 1\n" * 50, "lib/changed.py": "B = 2\n", "lib/new.py": "D = 1\n"}
    new = make_shiv(tmp_path / "new.pyz", new_files, "new")
    new_cache = _shiv.cache_dir(str(shiv_root), new, "new")
    counts = _shiv.extract(new, new_cache, old, old_cache)
    assert counts == {"written": 2, "linked": 1, "pyc_linked": 1, "shared": 0, "stored": 0}
    got, was = tree(new_cache), tree(old_cache)
    assert got["site-packages/lib/same.py"][2] == was["site-packages/lib/same.py"][2]  # the same inode
    assert got["site-packages/lib/__pycache__/same.cpython-311.pyc"][0] == b"pyc of same"
    assert "site-packages/lib/__pycache__/changed.cpython-311.pyc" not in got  # compiled again later
    assert got["site-packages/lib/changed.py"][0] == b"B = 2\n"
    assert got["site-packages/lib/changed.py"][2] != was["site-packages/lib/changed.py"][2]
    assert "site-packages/lib/gone.py" not in got and got["site-packages/lib/new.py"][0] == b"D = 1\n"


def test_only_a_byte_for_byte_equal_member_is_linked(tmp_path, monkeypatch):
    shiv_root = tmp_path / "shiv"
    os.makedirs(str(shiv_root))
    old = make_shiv(tmp_path / "old.pyz", {"m.py": "a = 1\n", "n.py": "b = 1\n"}, "old")
    old_cache = _shiv.cache_dir(str(shiv_root), old, "old")
    _shiv.extract(old, old_cache)
    # a live copy whose size no longer matches its pyz is never linked
    with open(os.path.join(old_cache, "site-packages", "n.py"), "w") as f:
        f.write("b = 10\n")
    new = make_shiv(tmp_path / "new.pyz", {"m.py": "a = 1\n", "n.py": "b = 1\n"}, "new")
    new_cache = _shiv.cache_dir(str(shiv_root), new, "new")
    assert _shiv.extract(new, new_cache, old, old_cache) == {"written": 1, "linked": 1, "pyc_linked": 0, "shared": 0, "stored": 0}
    # equal path, size and CRC but other compressed bytes: written, not linked
    monkeypatch.setattr(_shiv, "_raw", lambda fp, info: os.urandom(8))
    newer_cache = _shiv.cache_dir(str(shiv_root), new, "newer")
    assert _shiv.extract(new, newer_cache, old, old_cache) == {"written": 2, "linked": 0, "pyc_linked": 0, "shared": 0, "stored": 0}


def test_a_killed_extraction_leaves_nothing_that_looks_extracted(tmp_path, monkeypatch):
    pyz = make_shiv(tmp_path / "demo.pyz")
    cache = str(tmp_path / "demo.pyz_abc123")
    os.makedirs(cache + ".tmp/site-packages/half")  # a leftover of a killed run

    def boom(*a, **kw):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(_shiv.shutil, "copyfileobj", boom)
    try:
        _shiv.extract(pyz, cache)
    except OSError as e:
        assert "No space" in str(e)
    assert not os.path.exists(cache) and not os.path.exists(cache + ".tmp")


def test_compile_makes_unchecked_hash_pycs_for_what_has_none(tmp_path):
    sp = tmp_path / "site-packages"
    (sp / "pkg").mkdir(parents=True)
    (sp / "pkg" / "a.py").write_text("A = 1\n")
    (sp / "pkg" / "b.py").write_text("B = 1\n")
    (sp / "pkg" / "bad.py").write_text("def (\n")
    out = subprocess.run(_pyc.compile_command(sys.executable, str(sp)), input="", capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == {"compiled": 2, "failed": 1}
    pyc = next((sp / "pkg" / "__pycache__").glob("a.*.pyc")).read_bytes()
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based, unchecked
    out = subprocess.run(_pyc.compile_command(sys.executable, str(sp)), input="", capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == {"compiled": 0, "failed": 1}  # only the one that cannot compile is left


def test_the_cache_is_compiled_while_it_is_extracted_with_its_final_paths(tmp_path):
    shiv_root = tmp_path / "shiv"
    os.makedirs(str(shiv_root))
    old = make_shiv(tmp_path / "old.pyz", {"lib/same.py": "A = 1\n", "lib/data.txt": "x"}, "old")
    old_cache = _shiv.cache_dir(str(shiv_root), old, "old")
    compiler = _pyc.Compiler(sys.executable)
    _shiv.extract(old, old_cache, compiler=compiler)
    assert compiler.result == {"compiled": 1, "failed": 0}
    pyc = next(iter((shiv_root / os.path.basename(old_cache) / "site-packages" / "lib" / "__pycache__").glob("*.pyc")))
    assert os.path.join(old_cache, "site-packages", "lib", "same.py").encode() in pyc.read_bytes()  # not .tmp
    new = make_shiv(tmp_path / "new.pyz", {"lib/same.py": "A = 1\n", "lib/new.py": "B = 1\n"}, "new")
    new_cache = _shiv.cache_dir(str(shiv_root), new, "new")
    compiler = _pyc.Compiler(sys.executable)
    counts = _shiv.extract(new, new_cache, old, old_cache, compiler=compiler)
    assert counts == {"written": 1, "linked": 1, "pyc_linked": 1, "shared": 0, "stored": 0}
    assert compiler.result == {"compiled": 1, "failed": 0}  # only the new file


def test_a_compiler_that_cannot_run_fails_the_extraction_and_leaves_nothing(tmp_path):
    pyz = make_shiv(tmp_path / "demo.pyz")
    cache = str(tmp_path / "demo.pyz_abc123")
    with pytest.raises(RuntimeError, match="compiling .* with /bin/false failed"):
        _shiv.extract(pyz, cache, compiler=_pyc.Compiler("/bin/false"))
    assert not os.path.exists(cache) and not os.path.exists(cache + ".tmp")


def test_make_readable_fixes_a_umask_077_tree(tmp_path):
    top = tmp_path / "venv"
    (top / "bin").mkdir(parents=True)
    (top / "bin" / "python").write_text("x")
    os.chmod(str(top / "bin" / "python"), 0o700)
    (top / "lib.txt").write_text("y")
    os.chmod(str(top / "lib.txt"), 0o600)
    os.chmod(str(top / "bin"), 0o700)
    assert _fs.make_readable(str(top)) == 3
    assert stat.S_IMODE(os.stat(str(top / "bin" / "python")).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(str(top / "lib.txt")).st_mode) == 0o644


def test_pex_venv_dir_is_per_interpreter_and_its_marker_beside_it(tmp_path):
    release = str(tmp_path / "releases" / "1.0.0")
    venv = _pex.venv_dir(release, "/usr/bin/python3")
    assert os.path.dirname(venv) == release and os.path.basename(venv).startswith("venv-")
    assert venv == _pex.venv_dir(release, "/usr/bin/python3")
    assert venv != _pex.venv_dir(release, "/opt/python/3.13.5/bin/python3.13")
    marker = _pex.venv_marker(venv)
    assert os.path.dirname(marker) == release and marker.endswith("-complete")
    cmd = _pex.venv_command("/usr/bin/python3", release + "/app.pex", venv)
    assert cmd[:3] == ["/usr/bin/python3", release + "/app.pex", "venv"] and "--site-packages-copies" in cmd
    assert _pex.venv_env("/x/.pex-root") == {"PEX_TOOLS": "1", "PEX_ROOT": "/x/.pex-root", "PEX_VERBOSE": "0"}


def big(prefix, n=25, extra=""):
    return dict(("%s/m%02d.py" % (prefix, i), "X = %d%s\n" % (i, extra)) for i in range(n))


def test_a_big_unchanged_directory_is_shared_through_the_store_with_its_pycs(tmp_path):
    shiv_root = tmp_path / "shiv"
    os.makedirs(str(shiv_root))
    old = make_shiv(tmp_path / "old.pyz", dict(big("django"), **{"app/__init__.py": "v = 1\n"}), "old")
    old_cache = _shiv.cache_dir(str(shiv_root), old, "old")
    counts = _shiv.extract(old, old_cache, compiler=_pyc.Compiler(sys.executable))
    assert counts["stored"] == 1 and counts["written"] == 26 and counts["shared"] == 0
    link = os.path.join(old_cache, "site-packages", "django")
    assert os.path.islink(link) and os.readlink(link).startswith(os.path.join("..", "..", ".shared", "django-"))
    assert os.path.isfile(os.path.join(link, "m03.py")) and os.listdir(os.path.join(link, "__pycache__"))
    assert os.path.isdir(os.path.join(old_cache, "site-packages", "app"))  # a small one lives in the cache
    new = make_shiv(tmp_path / "new.pyz", dict(big("django"), **{"app/__init__.py": "v = 2\n"}), "new")
    new_cache = _shiv.cache_dir(str(shiv_root), new, "new")
    compiler = _pyc.Compiler(sys.executable)
    counts = _shiv.extract(new, new_cache, old, old_cache, compiler=compiler)
    assert counts == {"written": 1, "linked": 0, "pyc_linked": 0, "shared": 1, "stored": 0}
    assert compiler.result == {"compiled": 1, "failed": 0}
    assert os.readlink(os.path.join(new_cache, "site-packages", "django")) == os.readlink(link)
    # a Django that changed gets an entry of its own, linking the files that did not change
    newer = make_shiv(tmp_path / "newer.pyz", dict(big("django", 26), **{"app/__init__.py": "v = 2\n"}), "newer")
    newer_cache = _shiv.cache_dir(str(shiv_root), newer, "newer")
    counts = _shiv.extract(newer, newer_cache, new, new_cache, compiler=_pyc.Compiler(sys.executable))
    assert counts["stored"] == 1 and counts["written"] == 1  # only django/m25.py is new
    assert counts["linked"] == counts["pyc_linked"] == 26  # the other 25 and app/__init__.py, with their pycs
    assert len(os.listdir(_shiv.store_dir(str(shiv_root)))) == 2


def test_a_store_directory_is_looked_through_once_per_interpreter(tmp_path):
    shiv_root = tmp_path / "shiv"
    os.makedirs(str(shiv_root))
    old = make_shiv(tmp_path / "old.pyz", dict(big("django"), **{"app/__init__.py": "v = 1\n"}), "old")
    old_cache = _shiv.cache_dir(str(shiv_root), old, "old")
    _shiv.extract(old, old_cache, compiler=_pyc.Compiler(sys.executable))
    entry = os.path.realpath(os.path.join(old_cache, "site-packages", "django"))
    marker = os.path.join(entry, ".zipapp-compiled-" + sys.implementation.cache_tag)
    assert os.path.isfile(marker)  # compiled while it was extracted, and marked
    pyc = os.path.join(entry, "__pycache__", "m03.%s.pyc" % sys.implementation.cache_tag)
    os.unlink(pyc)

    def release(n):
        pyz = make_shiv(tmp_path / ("r%d.pyz" % n), dict(big("django"), **{"app/__init__.py": "v = %d\n" % n}),
                        "r%d" % n)
        compiler = _pyc.Compiler(sys.executable)
        counts = _shiv.extract(pyz, _shiv.cache_dir(str(shiv_root), pyz, "r%d" % n), compiler=compiler)
        assert counts["shared"] == 1
        return compiler.result

    assert release(2) == {"compiled": 1, "failed": 0}  # app/__init__.py only: the marked entry is not walked
    assert not os.path.exists(pyc)
    os.unlink(marker)  # as for an interpreter that never compiled it (another cache tag)
    assert release(3) == {"compiled": 2, "failed": 0}  # app/__init__.py, and the pyc missing in the entry
    assert os.path.isfile(pyc) and os.path.isfile(marker)


def test_many_files_compile_in_a_pool_and_all_get_pycs(tmp_path):
    shiv_root = tmp_path / "shiv"
    os.makedirs(str(shiv_root))
    files = dict(big("lib", 80), **big("other", 5))  # more than Compiler's SMALL batch, one shared dir
    pyz = make_shiv(tmp_path / "many.pyz", files, "many")
    cache = _shiv.cache_dir(str(shiv_root), pyz, "many")
    compiler = _pyc.Compiler(sys.executable)
    _shiv.extract(pyz, cache, compiler=compiler)
    assert compiler.result == {"compiled": 85, "failed": 0}
    site = os.path.join(cache, "site-packages")
    for name in files:
        src = os.path.join(site, name)
        assert os.path.isfile(os.path.join(os.path.dirname(src), "__pycache__", "%s.%s.pyc" % (
            os.path.basename(name)[:-3], sys.implementation.cache_tag))), name


def test_the_store_keeps_what_a_cache_links_to(tmp_path):
    shiv_root = tmp_path / "shiv"
    os.makedirs(str(shiv_root))
    a = make_shiv(tmp_path / "a.pyz", big("lib"), "a")
    b = make_shiv(tmp_path / "b.pyz", big("lib", extra=" + 1"), "b")
    ca, cb = _shiv.cache_dir(str(shiv_root), a, "a"), _shiv.cache_dir(str(shiv_root), b, "b")
    _shiv.extract(a, ca)
    _shiv.extract(b, cb)
    store = _shiv.store_dir(str(shiv_root))
    os.makedirs(os.path.join(store, "lib-dead.tmp"))  # a killed run's leftover
    assert len(_shiv.collect_store(str(shiv_root), [ca, cb])) == 1
    doomed = _shiv.collect_store(str(shiv_root), [cb])
    assert doomed == sorted(_shiv.shared_dirs(ca)) and sorted(os.listdir(store)) == sorted(_shiv.shared_dirs(cb))

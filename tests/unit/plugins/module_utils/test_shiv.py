import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
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
    assert counts == {"written": 2, "linked": 0, "pyc_linked": 0, "trees": 0}
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
    assert counts == {"written": 2, "linked": 1, "pyc_linked": 1, "trees": 0}  # lib/ changed: file by file
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
    assert _shiv.extract(new, new_cache, old, old_cache) == {"written": 1, "linked": 1, "pyc_linked": 0, "trees": 0}
    # equal path, size and CRC but other compressed bytes: written, not linked
    monkeypatch.setattr(_shiv, "_raw", lambda fp, info: os.urandom(8))
    newer_cache = _shiv.cache_dir(str(shiv_root), new, "newer")
    assert _shiv.extract(new, newer_cache, old, old_cache) == {"written": 2, "linked": 0, "pyc_linked": 0, "trees": 0}


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
    assert json.loads(out.stdout) == {"compiled": 2, "failed": 1, "tag": sys.implementation.cache_tag}
    pyc = next((sp / "pkg" / "__pycache__").glob("a.*.pyc")).read_bytes()
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based, unchecked
    out = subprocess.run(_pyc.compile_command(sys.executable, str(sp)), input="", capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout)["compiled"] == 0  # only the one that cannot compile is left


def test_the_cache_is_compiled_while_it_is_extracted_with_its_final_paths(tmp_path):
    shiv_root = tmp_path / "shiv"
    os.makedirs(str(shiv_root))
    old = make_shiv(tmp_path / "old.pyz", {"lib/same.py": "A = 1\n", "lib/data.txt": "x"}, "old")
    old_cache = _shiv.cache_dir(str(shiv_root), old, "old")
    compiler = _pyc.Compiler(sys.executable)
    _shiv.extract(old, old_cache, compiler=compiler)
    assert compiler.result == {"compiled": 1, "failed": 0, "tag": sys.implementation.cache_tag}
    pyc = next(iter((shiv_root / os.path.basename(old_cache) / "site-packages" / "lib" / "__pycache__").glob("*.pyc")))
    assert os.path.join(old_cache, "site-packages", "lib", "same.py").encode() in pyc.read_bytes()  # not .tmp
    new = make_shiv(tmp_path / "new.pyz", {"lib/same.py": "A = 1\n", "lib/new.py": "B = 1\n"}, "new")
    new_cache = _shiv.cache_dir(str(shiv_root), new, "new")
    compiler = _pyc.Compiler(sys.executable)
    counts = _shiv.extract(new, new_cache, old, old_cache, compiler=compiler)
    assert counts == {"written": 1, "linked": 1, "pyc_linked": 1, "trees": 0}
    assert compiler.result["compiled"] == 1  # only the new file


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


# ---- hard links instead of a store: the cache is what shiv would have made ----------------------------

DIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "examples", "dist")


def big(prefix, n=25, extra=""):
    return dict(("%s/m%02d.py" % (prefix, i), "X = %d%s\n" % (i, extra)) for i in range(n))


def extract_compiled(pyz, shiv_root, build_id, live=None):
    """Extract and compile as zipapp_release does, compiled marker included; ``live`` is (pyz, cache)."""
    cache = _shiv.cache_dir(str(shiv_root), pyz, build_id)
    compiler = _pyc.Compiler(sys.executable)
    counts = _shiv.extract(pyz, cache, live[0] if live else None, live[1] if live else None, compiler=compiler)
    with open(_shiv.compiled_marker(cache), "w") as f:
        json.dump(compiler.result, f)
    return cache, counts, compiler.result


def files(top):
    """Every file under ``top`` as it reads through its path (through symlinks too): relative path -> bytes; not
    the "compiled" markers of the earlier layout's store (the app never reads them, a conversion drops them)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
        for name in filenames:
            if name.startswith(".zipapp-compiled-"):
                continue
            with open(os.path.join(dirpath, name), "rb") as f:
                out[os.path.relpath(os.path.join(dirpath, name), top)] = f.read()
    return out


def links_and_escapes(cache):
    """Symlinks under ``cache``, and paths whose realpath is not themselves (so not inside the cache)."""
    top = os.path.realpath(cache)
    links, escapes, seen = [], [], 0
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            seen += 1
            if os.path.islink(path):
                links.append(path)
            if os.path.realpath(path) != path or not path.startswith(top + os.sep):
                escapes.append(path)
    return links, escapes, seen


def test_a_directory_equal_to_the_live_ones_is_linked_whole_with_its_pycs(tmp_path):
    shiv_root = tmp_path / "shiv"
    old = make_shiv(tmp_path / "old.pyz", dict(big("django"), **{"app/__init__.py": "v = 1\n"}), "old")
    old_cache, counts, result = extract_compiled(old, shiv_root, "old")
    assert counts == {"written": 26, "linked": 0, "pyc_linked": 0, "trees": 0} and result["compiled"] == 26
    new = make_shiv(tmp_path / "new.pyz", dict(big("django"), **{"app/__init__.py": "v = 2\n"}), "new")
    new_cache, counts, result = extract_compiled(new, shiv_root, "new", (old, old_cache))
    assert counts == {"written": 1, "linked": 25, "pyc_linked": 25, "trees": 1}
    assert result["compiled"] == 1  # app/__init__.py: the linked tree is not looked through
    for name in sorted(big("django")):
        pyc = "%s/__pycache__/%s.%s.pyc" % (os.path.dirname(name), os.path.basename(name)[:-3],
                                            sys.implementation.cache_tag)
        for rel in (name, pyc):
            mine, theirs = os.path.join(new_cache, "site-packages", rel), os.path.join(old_cache, "site-packages", rel)
            assert not os.path.islink(mine) and os.stat(mine).st_ino == os.stat(theirs).st_ino, rel
    assert not os.path.islink(os.path.join(new_cache, "site-packages", "django"))
    assert links_and_escapes(new_cache)[:2] == ([], [])
    # a Django that changed is compared file by file: what did not change is linked all the same
    newer = make_shiv(tmp_path / "newer.pyz", dict(big("django", 26), **{"app/__init__.py": "v = 2\n"}), "newer")
    newer_cache, counts, result = extract_compiled(newer, shiv_root, "newer", (new, new_cache))
    assert counts == {"written": 1, "linked": 26, "pyc_linked": 26, "trees": 1}  # app/ whole, django/m25.py new
    assert result["compiled"] == 1
    assert not os.path.exists(_shiv.store_dir(str(shiv_root)))


def test_a_linked_tree_is_looked_through_unless_its_cache_was_compiled_by_this_interpreter(tmp_path):
    shiv_root = tmp_path / "shiv"
    old = make_shiv(tmp_path / "old.pyz", dict(big("lib"), **{"app/__init__.py": "v = 1\n"}), "old")
    old_cache, dummy, dummy = extract_compiled(old, shiv_root, "old")
    assert _shiv.compiled_tag(old_cache) == sys.implementation.cache_tag
    pyc = os.path.join(old_cache, "site-packages", "lib", "__pycache__", "m03.%s.pyc" % sys.implementation.cache_tag)
    os.unlink(pyc)

    def release(n):
        pyz = make_shiv(tmp_path / ("r%d.pyz" % n), dict(big("lib"), **{"app/__init__.py": "v = %d\n" % n}),
                        "r%d" % n)
        cache, counts, result = extract_compiled(pyz, shiv_root, "r%d" % n, (old, old_cache))
        assert counts["trees"] == 1
        return result["compiled"], os.path.exists(os.path.join(cache, os.path.relpath(pyc, old_cache)))

    assert release(2) == (1, False)  # its marker vouches for the tree: not walked (the hole made above stays)
    with open(_shiv.compiled_marker(old_cache), "w") as f:
        json.dump({"compiled": 26, "failed": 0, "tag": "another-interpreter"}, f)
    assert release(3) == (2, True)  # pycs of another interpreter: walked, and what lacks a pyc is compiled


def test_many_files_compile_in_a_pool_and_all_get_pycs(tmp_path):
    shiv_root = tmp_path / "shiv"
    os.makedirs(str(shiv_root))
    names = dict(big("lib", 80), **big("other", 5))  # more than Compiler's SMALL batch
    pyz = make_shiv(tmp_path / "many.pyz", names, "many")
    cache, dummy, result = extract_compiled(pyz, shiv_root, "many")
    assert result["compiled"] == 85 and result["failed"] == 0
    site = os.path.join(cache, "site-packages")
    for name in names:
        src = os.path.join(site, name)
        assert os.path.isfile(os.path.join(os.path.dirname(src), "__pycache__", "%s.%s.pyc" % (
            os.path.basename(name)[:-3], sys.implementation.cache_tag))), name


def test_a_killed_tree_link_leaves_the_live_cache_as_it_was_and_nothing_half_made(tmp_path, monkeypatch):
    shiv_root = tmp_path / "shiv"
    old = make_shiv(tmp_path / "old.pyz", big("lib"), "old")
    old_cache, dummy, dummy = extract_compiled(old, shiv_root, "old")
    before = files(old_cache)
    new = make_shiv(tmp_path / "new.pyz", dict(big("lib"), **{"app.py": "x = 1\n"}), "new")
    link, calls = os.link, []

    def dies(src, dst):
        calls.append(dst)
        if len(calls) == 20:
            raise KeyboardInterrupt("killed")  # a BaseException, as a signal would be
        return link(src, dst)
    monkeypatch.setattr(_shiv.os, "link", dies)
    with pytest.raises(KeyboardInterrupt):
        extract_compiled(new, shiv_root, "new", (old, old_cache))
    monkeypatch.setattr(_shiv.os, "link", link)
    new_cache = _shiv.cache_dir(str(shiv_root), new, "new")
    assert not os.path.exists(new_cache) and not os.path.exists(new_cache + ".tmp")
    assert files(old_cache) == before
    assert all(os.stat(os.path.join(old_cache, "site-packages", n)).st_nlink == 1 for n in big("lib"))
    assert extract_compiled(new, shiv_root, "new", (old, old_cache))[1]["trees"] == 1  # the next run


# ---- the real example: demoapp 1.0.0, then 2.0.0 over it ----------------------------------------------


def real_pyz(version):
    path = os.path.abspath(os.path.join(DIST, "demoapp-%s.pyz" % version))
    assert os.path.isfile(path), "%s is missing: scripts/setup builds the example" % path
    return path


def build_id(pyz):
    with zipfile.ZipFile(pyz) as zf:
        return json.loads(zf.read("environment.json"))["build_id"]


@pytest.fixture(scope="module")
def real_caches(tmp_path_factory):
    """The real example's caches, 1.0.0 and then 2.0.0 linked from it, as two deploys leave them."""
    shiv_root = str(tmp_path_factory.mktemp("real") / "shiv")
    one, two = real_pyz("1.0.0"), real_pyz("2.0.0")
    c1, counts1, dummy = extract_compiled(one, shiv_root, build_id(one))
    c2, counts2, dummy = extract_compiled(two, shiv_root, build_id(two), (one, c1))
    return {"root": shiv_root, "pyz": (one, two), "caches": (c1, c2), "counts": (counts1, counts2)}


def test_every_path_of_a_real_cache_resolves_inside_it(real_caches):
    for cache in real_caches["caches"]:
        links, escapes, seen = links_and_escapes(cache)
        assert links == [] and escapes == [] and seen > 6000, (links[:5], escapes[:5], seen)
    # as the app reaches them: __file__ resolved (Django's BASE_DIR), realpath, importlib.resources
    site = os.path.join(real_caches["caches"][1], "site-packages")
    code = ("import os, sys; from pathlib import Path; sys.path.insert(0, %r)\n"
            "import importlib.resources, django, demoapp, gunicorn\n"
            "print(Path(demoapp.__file__).resolve().parent.parent)\n"
            "print(os.path.realpath(django.__file__))\n"
            "print(importlib.resources.files('gunicorn') / 'app')\n" % site)
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True)
    base, django_file, resource = out.stdout.splitlines()
    assert base == os.path.realpath(site)
    assert django_file == os.path.join(os.path.realpath(site), "django", "__init__.py")
    assert resource.startswith(os.path.realpath(site) + os.sep) and os.path.isdir(resource)
    assert os.path.isfile(os.path.join(base, "demoapp", "templates", "demoapp", "index.html"))


def test_a_real_cache_has_what_shivs_own_extraction_makes(real_caches, tmp_path):
    two = real_caches["pyz"][1]
    target = tmp_path / "by-shiv" / "site-packages-root"
    code = ("import sys, zipfile; from pathlib import Path; sys.path.insert(0, %r)\n"
            "import _bootstrap\n"
            "_bootstrap.extract_site_packages(zipfile.ZipFile(%r), Path(%r))\n" % (two, two, str(target)))
    subprocess.run([sys.executable, "-I", "-S", "-c", code], check=True)
    ours = dict((k, v) for k, v in files(real_caches["caches"][1]).items() if "__pycache__" not in k)
    assert ours == files(str(target))


def test_files_equal_between_two_real_releases_share_an_inode(real_caches):
    (one, two), (c1, c2), counts = real_caches["pyz"], real_caches["caches"], real_caches["counts"][1]
    with zipfile.ZipFile(one) as z1, zipfile.ZipFile(two) as z2:
        old = dict((i.filename, (i.CRC, i.file_size)) for i in z1.infolist())
        new = [i for i in z2.infolist() if i.filename.startswith("site-packages/") and not i.filename.endswith("/")]
    equal = [i.filename for i in new if old.get(i.filename) == (i.CRC, i.file_size)]
    changed = [i.filename for i in new if old.get(i.filename) != (i.CRC, i.file_size)]
    assert len(equal) > 4000 and "site-packages/demoapp/_version.py" in changed
    assert counts["written"] == len(changed) and counts["linked"] == len(equal) and counts["trees"] > 10

    def ino(cache, name):
        return os.stat(os.path.join(cache, name)).st_ino
    assert [n for n in equal if ino(c1, n) != ino(c2, n)] == []
    assert [n for n in changed if os.path.exists(os.path.join(c1, n)) and ino(c1, n) == ino(c2, n)] == []
    pycs = [os.path.join(dp, f) for dp, dn, fn in os.walk(os.path.join(c2, "site-packages", "django")) for f in fn
            if f.endswith(".pyc")]
    assert len(pycs) > 500 and all(os.stat(p).st_nlink == 2 for p in pycs)  # each with 1.0.0's copy


# ---- the earlier layout: a store of shared directories, converted by the next deploy ---------------------


def make_old_layout(shiv_root, cache):
    """Turn ``cache`` into the layout of the code before: every top-level directory of site-packages with 20
    files or more lives in the store ``.shared/<dir>-<digest>`` (one equal entry is shared, "compiled" marker
    inside) and a relative symlink takes its place."""
    store = os.path.join(str(shiv_root), ".shared")
    os.makedirs(store, exist_ok=True)
    site = os.path.join(cache, "site-packages")
    for name in sorted(os.listdir(site)):
        path = os.path.join(site, name)
        if os.path.islink(path) or not os.path.isdir(path):
            continue
        found = sorted(os.path.join(dp, f) for dp, dn, fn in os.walk(path) for f in fn if "__pycache__" not in dp)
        if len(found) < 20:
            continue
        digest = hashlib.sha256()
        for f in found:
            with open(f, "rb") as fh:
                digest.update(os.path.relpath(f, path).encode() + b"\0" + fh.read())
        entry = os.path.join(store, "%s-%s" % (name, digest.hexdigest()[:24]))
        if os.path.isdir(entry):
            shutil.rmtree(path)
        else:
            os.rename(path, entry)
            open(os.path.join(entry, ".zipapp-compiled-" + sys.implementation.cache_tag), "w").close()
        os.symlink(os.path.join("..", "..", ".shared", os.path.basename(entry)), path)


def test_make_old_layout_makes_what_the_code_before_made(tmp_path):
    shiv_root = tmp_path / "shiv"
    pyz = make_shiv(tmp_path / "a.pyz", dict(big("django"), **{"app/__init__.py": "v = 1\n"}), "a")
    cache, dummy, dummy = extract_compiled(pyz, shiv_root, "a")
    make_old_layout(shiv_root, cache)
    link = os.path.join(cache, "site-packages", "django")
    assert os.path.islink(link) and os.readlink(link).startswith(os.path.join("..", "..", ".shared", "django-"))
    assert _shiv.store_links(cache) == [("django", os.path.basename(os.readlink(link)))]
    assert not os.path.islink(os.path.join(cache, "site-packages", "app"))
    assert links_and_escapes(cache)[1]  # the trouble: paths resolve into the store


def test_real_caches_of_the_earlier_layout_convert_to_real_dirs_and_the_store_goes(tmp_path):
    shiv_root = str(tmp_path / "shiv")
    one, two = real_pyz("1.0.0"), real_pyz("2.0.0")
    c1 = extract_compiled(one, shiv_root, build_id(one))[0]
    c2 = extract_compiled(two, shiv_root, build_id(two))[0]
    for cache in (c1, c2):
        make_old_layout(shiv_root, cache)
    store = _shiv.store_dir(shiv_root)
    entries = sorted(os.listdir(store))
    assert [e.rsplit("-", 1)[0] for e in entries] == ["django", "gunicorn", "psycopg", "pydantic", "sqlparse"]
    assert _shiv.shared_dirs(c1) == _shiv.shared_dirs(c2) == set(entries)
    before = dict((c, files(c)) for c in (c1, c2))
    assert _shiv.old_layout(shiv_root) == [c1, c2]
    assert _shiv.convert(shiv_root) == {"converted": [c1, c2], "kept": []}
    for cache in (c1, c2):
        links, escapes, dummy = links_and_escapes(cache)
        assert links == [] and escapes == []
        assert files(cache) == before[cache]  # same contents, pycs included
        assert not os.path.exists(_shiv.staging_dir(cache))
    stored = os.path.join(store, entries[0], "db", "models", "base.py")
    for cache in (c1, c2):  # hard links to the store's files: one inode for Django in both caches
        assert os.stat(os.path.join(cache, "site-packages", "django", "db", "models", "base.py")).st_ino == \
            os.stat(stored).st_ino
    assert not os.path.exists(os.path.join(c1, "site-packages", "django", ".zipapp-compiled-" +
                                           sys.implementation.cache_tag))
    assert _shiv.old_layout(shiv_root) == [] and _shiv.convert(shiv_root) == {"converted": [], "kept": []}
    assert os.path.isfile(os.path.join(store, _shiv.CONVERTED))
    assert _shiv.collect_store(shiv_root, _shiv.caches(shiv_root)) == entries  # no process of the app runs
    assert not os.path.exists(store) and files(c1) == before[c1] and files(c2) == before[c2]
    # and the next release links from a converted live cache like from any other
    c3 = _shiv.cache_dir(shiv_root, two, "again")
    assert _shiv.extract(two, c3, one, c1)["trees"] > 10 and links_and_escapes(c3)[:2] == ([], [])


def old_host(tmp_path):
    """Two caches of the earlier layout (two big directories each, one shared), and what they read."""
    shiv_root = str(tmp_path / "shiv")
    caches = []
    for n in (1, 2):
        members = dict(big("lib"), **dict(big("other", 30, " + %d" % n), **{"app/__init__.py": "v = %d\n" % n}))
        pyz = make_shiv(tmp_path / ("r%d.pyz" % n), members, "r%d" % n)
        cache = extract_compiled(pyz, shiv_root, "r%d" % n)[0]
        make_old_layout(shiv_root, cache)
        caches.append(cache)
    assert len(os.listdir(_shiv.store_dir(shiv_root))) == 3  # lib shared, other twice
    return shiv_root, caches, dict((c, files(c)) for c in caches)


def fail_on_call(monkeypatch, name, n):
    """Make ``os.<name>`` raise on its ``n``th call from here on, as if the run was killed there."""
    real, calls = getattr(os, name), []

    def dies(*args, **kwargs):
        calls.append(args)
        if len(calls) == n:
            raise KeyboardInterrupt("killed at %s #%d" % (name, n))
        return real(*args, **kwargs)
    monkeypatch.setattr(_shiv.os, name, dies)
    return real


@pytest.mark.parametrize("name,n", [("rmdir", 1), ("link", 10), ("link", 40), ("utime", 1), ("unlink", 1),
                                    ("unlink", 3), ("utime", 3), ("rmdir", 4)])
def test_a_conversion_killed_at_any_step_leaves_caches_that_run_and_the_next_run_finishes(tmp_path, monkeypatch,
                                                                                          name, n):
    shiv_root, caches, before = old_host(tmp_path)
    real = fail_on_call(monkeypatch, name, n)
    with pytest.raises(KeyboardInterrupt):
        _shiv.convert(shiv_root)
    monkeypatch.setattr(_shiv.os, name, real)
    for cache in caches:  # every path still there with its bytes: through a symlink or a real directory
        assert files(cache) == before[cache]
    _shiv.collect_store(shiv_root, _shiv.caches(shiv_root))  # a prune before the next conversion takes nothing used
    for cache in caches:
        assert files(cache) == before[cache]
    assert _shiv.old_layout(shiv_root)  # something left for the next run: symlinks, or a staging dir
    done = _shiv.convert(shiv_root)
    assert done["kept"] == [] and done["converted"]
    for cache in caches:
        assert links_and_escapes(cache)[:2] == ([], []) and files(cache) == before[cache]
    assert _shiv.old_layout(shiv_root) == []
    _shiv.collect_store(shiv_root, _shiv.caches(shiv_root))
    leftovers = [e for e in os.listdir(shiv_root) if e.startswith(".") and not e.endswith("_compiled")]
    assert leftovers == []  # no staging dir, no probe, no store


def test_where_directories_cannot_be_exchanged_the_caches_keep_their_store(tmp_path, monkeypatch):
    shiv_root, caches, before = old_host(tmp_path)
    monkeypatch.setattr(_shiv, "exchange", lambda a, b: False)  # as glibc < 2.28 or a file system without it
    assert _shiv.convert(shiv_root) == {"converted": [], "kept": caches}
    assert _shiv.collect_store(shiv_root, _shiv.caches(shiv_root)) == []
    for cache in caches:
        assert _shiv.store_links(cache) and files(cache) == before[cache]
        assert not os.path.exists(_shiv.staging_dir(cache))


def test_the_store_stays_while_a_process_that_started_before_the_conversion_runs(tmp_path):
    shiv_root, caches, before = old_host(tmp_path)
    env = {"PATH": os.environ["PATH"], "SHIV_ROOT": shiv_root}
    older = subprocess.Popen(["sleep", "120"], env=env)  # a unit of the app, started on the earlier layout
    newer = None
    try:
        assert _shiv.convert(shiv_root)["converted"] == caches
        since = os.path.getmtime(os.path.join(_shiv.store_dir(shiv_root), _shiv.CONVERTED))
        assert _shiv.older_processes(shiv_root, since) == [older.pid]
        assert _shiv.collect_store(shiv_root, _shiv.caches(shiv_root)) == []
        assert os.path.isdir(_shiv.store_dir(shiv_root))
        time.sleep(1.2)  # the boot time is known to the second
        newer = subprocess.Popen(["sleep", "120"], env=env)  # started from the converted caches
        other = subprocess.Popen(["sleep", "120"], env=dict(env, SHIV_ROOT=shiv_root + "x"))  # another app
        older.kill()
        older.wait()
        assert _shiv.older_processes(shiv_root, since) == []
        other.kill()
        other.wait()
        assert len(_shiv.collect_store(shiv_root, _shiv.caches(shiv_root))) == 3
        assert not os.path.exists(_shiv.store_dir(shiv_root))
    finally:
        for proc in (older, newer):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


def test_the_store_keeps_what_a_kept_cache_still_links_to(tmp_path):
    shiv_root, caches, before = old_host(tmp_path)
    store = _shiv.store_dir(shiv_root)
    os.makedirs(os.path.join(store, "lib-dead.tmp"))  # a killed run's leftover
    assert _shiv.collect_store(shiv_root, caches) == ["lib-dead.tmp"]
    doomed = _shiv.collect_store(shiv_root, caches[1:])  # the first cache was pruned
    assert doomed == sorted(_shiv.shared_dirs(caches[0]) - _shiv.shared_dirs(caches[1]))
    assert sorted(os.listdir(store)) == sorted(_shiv.shared_dirs(caches[1]))
    assert files(caches[1]) == before[caches[1]]

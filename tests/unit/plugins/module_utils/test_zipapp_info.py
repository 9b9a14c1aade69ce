"""zipapp_info's module_utils: archives (shiv, pex, zipapp), interpreter tags from real probes, Requires-Python, the check."""

import ast
import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import (
    _archive,
    _compatibility,
    _interpreter,
    _specifiers,
    _tags,
)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(HERE))))

ORJSON_TAG = "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"

# /usr/bin/python3 of Debian 13 (the trixie test-host image), recorded with INTERPRETER_PROBE_CODE
PROBE_DEBIAN13 = {
    "probe": 1, "executable": "/usr/bin/python3", "implementation": "cpython",
    "version_info": [3, 13, 5, "final", 0], "version": "3.13.5", "platform": "linux",
    "sysconfig_platform": "linux-x86_64", "machine": "x86_64", "maxsize": 9223372036854775807,
    "pointer_size": 8, "soabi": "cpython-313-x86_64-linux-gnu", "ext_suffix": ".cpython-313-x86_64-linux-gnu.so",
    "extension_suffixes": [".cpython-313-x86_64-linux-gnu.so", ".abi3.so", ".abi3-x86_64-linux-gnu.so", ".so"],
    "py_version_nodot": "313", "py_debug": 0, "gettotalrefcount": False, "gil_disabled": 0, "with_pymalloc": 1,
    "libc": {"name": "glibc", "version": "2.41"},
    "elf": {"bits": 64, "endian": "little", "machine": 62, "flags": 0, "interpreter": "/lib64/ld-linux-x86-64.so.2"},
}


# ----------------------------------------------------------------------------------------------------
# archives that look like shiv, pex and plain zipapps
# ----------------------------------------------------------------------------------------------------

def metadata(name, version, requires_python=None):
    text = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
    if requires_python:
        text += "Requires-Python: %s\n" % requires_python
    return text + "\nA description: with a colon.\nRequires-Python: not a header\n"


def wheel_file(*tags):
    return "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n" + "".join("Tag: %s\n" % t for t in tags)


def make_shiv(path, dists, shebang=b"#!/usr/bin/env python3\n", extra=None, build_id="b1d"):
    """dists: (name, version, tags or None (no WHEEL), requires_python, files, record (bool))."""
    with open(path, "wb") as f:
        f.write(shebang or b"")
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("environment.json", json.dumps({"build_id": build_id, "entry_point": "demoapp.__main__:main",
                                                    "shiv_version": "1.0.8"}))
        zf.writestr("_bootstrap/__init__.py", "")
        zf.writestr("site-packages/", "")
        for name, version, tags, requires_python, files, record in dists:
            info = "site-packages/%s-%s.dist-info/" % (name.replace("-", "_"), version)
            zf.writestr(info, "")
            zf.writestr(info + "METADATA", metadata(name, version, requires_python))
            if tags is not None:
                zf.writestr(info + "WHEEL", wheel_file(*tags))
            for rel in files:
                zf.writestr("site-packages/" + rel, b"\x7fELF" if _tags.is_compiled(rel) else b"x = 1\n")
            if record:
                listed = files + [info[len("site-packages/"):] + f for f in ("METADATA", "RECORD")]
                zf.writestr(info + "RECORD", "".join("%s,,\n" % rel for rel in listed))
        for rel, data in (extra or {}).items():
            zf.writestr(rel, data)
    return str(path)


ORJSON = ("orjson", "3.10.18", [ORJSON_TAG], ">=3.9",
          ["orjson/__init__.py", "orjson/orjson.cpython-311-x86_64-linux-gnu.so"], True)
DJANGO = ("Django", "5.2.19", ["py3-none-any"], ">=3.10", ["django/__init__.py"], True)


def make_pex(path, wheels, constraints=(), installed=True, pex_hash="ph", code_hash="ch", requires=None):
    """wheels: wheel file names; requires: {wheel: Requires-Python}."""
    requires = requires or {}
    with open(path, "wb") as f:
        f.write(b"#!/usr/bin/env python3.11\n")
    info = {"distributions": dict((w, "0" * 40) for w in wheels), "interpreter_constraints": list(constraints),
            "code_hash": code_hash, "entry_point": "app:main", "deps_are_wheel_files": not installed}
    if pex_hash:
        info["pex_hash"] = pex_hash
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("PEX-INFO", json.dumps(info))
        zf.writestr("__main__.py", "")
        for whl in wheels:
            name, version = whl.split("-")[:2]
            meta = metadata(name, version, requires.get(whl))
            dist_info = "%s-%s.dist-info/METADATA" % (name, version)
            if installed:
                zf.writestr(".deps/%s/%s" % (whl, dist_info), meta)
                zf.writestr(".deps/%s/%s/__init__.py" % (whl, name), "")
            else:
                nested = os.path.join(os.path.dirname(str(path)), whl)
                with zipfile.ZipFile(nested, "w") as wz:
                    wz.writestr(dist_info, meta)
                zf.write(nested, ".deps/" + whl)
    return str(path)


def test_inspect_shiv_reports_tags_and_requires_python(tmp_path):
    info = _archive.inspect_archive(make_shiv(tmp_path / "demo.pyz", [ORJSON, DJANGO]))
    assert (info["kind"], info["build_id"], info["entry_point"], info["shebang"]) == \
        ("shiv", "b1d", "demoapp.__main__:main", "/usr/bin/env python3")
    assert info["interpreter_constraints"] == []
    django, orjson = info["distributions"]
    assert django == {"name": "Django", "version": "5.2.19", "tags": ["py3-none-any"], "requires_python": ">=3.10",
                      "source": "site-packages/Django-5.2.19.dist-info"}
    assert orjson["tags"] == ["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"]
    assert orjson["requires_python"] == ">=3.9"


def test_inspect_shiv_without_shebang(tmp_path):
    info = _archive.inspect_archive(make_shiv(tmp_path / "demo.pyz", [DJANGO], shebang=None))
    assert info["kind"] == "shiv" and info["shebang"] is None
    assert [d["name"] for d in info["distributions"]] == ["Django"]


def test_a_distribution_without_wheel_is_pure_only_without_compiled_files(tmp_path):
    pure = ("purelib", "1.0", None, None, ["purelib/__init__.py"], True)
    native = ("native", "2.0", None, None, ["native/__init__.py", "native/_speedups.cpython-311-x86_64-linux-gnu.so"],
              True)
    info = _archive.inspect_archive(make_shiv(tmp_path / "a.pyz", [pure, native, ORJSON]))
    by_name = dict((d["name"], d) for d in info["distributions"])
    assert by_name["purelib"]["tags"] == ["py3-none-any"] and by_name["purelib"]["assumed_pure"]
    assert by_name["native"]["tags"] is None
    assert "native/_speedups.cpython-311-x86_64-linux-gnu.so" in by_name["native"]["tags_unknown"]
    # orjson's own .so (listed in its RECORD) is not blamed on anyone else
    assert by_name["orjson"]["tags"]
    # without RECORD: the compiled files no RECORD claims count against it
    norecord = ("norecord", "1.0", None, None, ["nr/__init__.py", "nr/_c.abi3.so"], False)
    info = _archive.inspect_archive(make_shiv(tmp_path / "b.pyz", [norecord, ORJSON]))
    nr = [d for d in info["distributions"] if d["name"] == "norecord"][0]
    assert nr["tags"] is None and "nr/_c.abi3.so" in nr["tags_unknown"]
    puresdist = ("puresdist", "1.0", None, None, ["ps/__init__.py"], False)
    info = _archive.inspect_archive(make_shiv(tmp_path / "c.pyz", [puresdist, ORJSON]))
    assert [d["tags"] for d in info["distributions"] if d["name"] == "puresdist"] == [["py3-none-any"]]


@pytest.mark.parametrize("installed", [True, False], ids=["installed-deps", "wheel-file-deps"])
def test_inspect_pex(tmp_path, installed):
    wheels = ["orjson-3.10.18-%s.whl" % ORJSON_TAG, "cryptography-44.0.0-cp39-abi3-manylinux_2_28_x86_64.whl",
              "multi-1.0-1build-cp311.cp312-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"]
    path = make_pex(tmp_path / "app.pex", wheels, constraints=["CPython<3.14,>=3.9"], installed=installed,
                    requires={wheels[0]: ">=3.9"})
    info = _archive.inspect_archive(path)
    assert (info["kind"], info["build_id"], info["entry_point"], info["shebang"]) == \
        ("pex", "ph", "app:main", "/usr/bin/env python3.11")
    assert info["interpreter_constraints"] == ["CPython<3.14,>=3.9"]
    dists = dict((d["name"], d) for d in info["distributions"])
    assert dists["orjson"]["requires_python"] == ">=3.9" and dists["multi"]["requires_python"] is None
    assert dists["orjson"]["source"] == ".deps/" + wheels[0]
    assert sorted(dists["multi"]["tags"]) == sorted([
        "cp311-abi3-manylinux_2_17_x86_64", "cp311-abi3-manylinux2014_x86_64",
        "cp312-abi3-manylinux_2_17_x86_64", "cp312-abi3-manylinux2014_x86_64"])
    # code_hash when there is no pex_hash
    assert _archive.inspect_archive(make_pex(tmp_path / "b.pex", [], pex_hash=None))["build_id"] == "ch"


def test_inspect_plain_zipapp_and_garbage(tmp_path):
    plain = tmp_path / "plain.pyz"
    with zipfile.ZipFile(str(plain), "w") as zf:
        zf.writestr("__main__.py", "print(1)")
        zf.writestr("six-1.16.0.dist-info/METADATA", metadata("six", "1.16.0"))
        zf.writestr("six-1.16.0.dist-info/WHEEL", wheel_file("py2-none-any", "py3-none-any"))
    info = _archive.inspect_archive(str(plain))
    assert (info["kind"], info["entry_point"], info["build_id"]) == ("zipapp", "__main__.py", None)
    assert info["distributions"][0]["tags"] == ["py2-none-any", "py3-none-any"]
    junk = tmp_path / "junk.pyz"
    junk.write_bytes(b"#!/usr/bin/python3\nnot a zip")
    with pytest.raises(_archive.ZipappInfoError, match="not a zip application"):
        _archive.inspect_archive(str(junk))
    empty = tmp_path / "empty.pyz"
    zipfile.ZipFile(str(empty), "w").close()
    with pytest.raises(_archive.ZipappInfoError, match="not a runnable zipapp"):
        _archive.inspect_archive(str(empty))


def test_tags_expand_and_compress():
    assert _tags.expand_tag("cp311.cp312-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64") == [
        "cp311-abi3-manylinux_2_17_x86_64", "cp311-abi3-manylinux2014_x86_64",
        "cp312-abi3-manylinux_2_17_x86_64", "cp312-abi3-manylinux2014_x86_64"]
    assert _tags.expand_tag("py2.py3-none-any") == ["py2-none-any", "py3-none-any"]
    for bad in ("py3-none", "py3--any", "py3.-none-any"):
        with pytest.raises(ValueError):
            _tags.expand_tag(bad)
    assert _tags.parse_wheel_filename("foo_bar-1.0-2-py3-none-any.whl") == ("foo_bar", "1.0", ["py3-none-any"])
    with pytest.raises(ValueError):
        _tags.parse_wheel_filename("foo-1.0.tar.gz")
    assert _tags.compress_tags(_tags.expand_tag(ORJSON_TAG)) == [ORJSON_TAG]


# ----------------------------------------------------------------------------------------------------
# interpreters: real probes, recorded ones and synthetic ones
# ----------------------------------------------------------------------------------------------------

def run_probe(python):
    return _interpreter.parse_probe(subprocess.check_output(_interpreter.probe_command(python)))


def machine_python3():
    for candidate in ("/usr/bin/python3", shutil.which("python3"), sys.executable):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return sys.executable


def fake_probe(probe, version):
    """The probe of ``probe``'s interpreter as if it were CPython ``version`` (same platform)."""
    major, minor, micro = (int(v) for v in version.split("."))
    old, new = "%d%d" % tuple(probe["version_info"][:2]), "%d%d" % (major, minor)
    fake = dict(probe, version_info=[major, minor, micro, "final", 0], version=version, py_version_nodot=new)
    for key in ("soabi", "ext_suffix"):
        fake[key] = (probe[key] or "").replace(old, new)
    fake["extension_suffixes"] = [s.replace(old, new) for s in probe["extension_suffixes"]]
    return fake


@pytest.fixture(scope="module")
def probe():
    return run_probe(machine_python3())


def test_the_probe_of_the_machines_python3(probe):
    assert probe["implementation"] == "cpython"
    major, minor = probe["version_info"][:2]
    v, next1, next2 = "%d%d" % (major, minor), "%d%d" % (major, minor + 1), "%d%d" % (major, minor + 2)
    arch = probe["machine"]
    tags = set(_tags.supported_tags(probe))
    assert "py3-none-any" in tags and "py2.py3-none-any" not in tags
    assert "cp%s-cp%s-linux_%s" % (v, v, arch) in tags
    assert "cp38-abi3-linux_%s" % arch in tags
    assert "cp%s-abi3-linux_%s" % (next1, arch) not in tags
    assert "cp%s-cp%s-manylinux_2_17_%s" % (next2, next2, arch) not in tags
    assert "cp%s-cp%s-macosx_11_0_arm64" % (v, v) not in tags
    if probe["libc"]["name"] == "glibc":
        assert "cp%s-cp%s-manylinux_2_17_%s" % (v, v, arch) in tags
        assert "cp%s-cp%s-musllinux_1_1_%s" % (v, v, arch) not in tags
    assert _interpreter.describe_interpreter(probe)["tag_count"] == len(tags)


@pytest.mark.skipif(not (sys.platform.startswith("linux") and platform.machine() == "x86_64"),
                    reason="the literal tags are those of CPython 3.11 on x86_64 glibc")
def test_python311_on_x86_64_glibc_supports_exactly_the_expected_tags(probe):
    if probe["version_info"][:2] != [3, 11] or (probe["libc"] or {}).get("name") != "glibc":
        pytest.skip("the machine's python3 is not CPython 3.11 on glibc")
    tags = _tags.supported_tags(probe)
    for tag in ("cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64",
                "cp38-abi3-manylinux2014_x86_64", "cp311-abi3-manylinux1_x86_64", "py3-none-any",
                "py311-none-any", "cp311-none-any", "py30-none-manylinux_2_5_x86_64"):
        assert tag in tags, tag
    for tag in ("cp313-cp313-manylinux_2_17_x86_64", "cp311-cp311-macosx_11_0_arm64",
                "cp311-cp311-musllinux_1_1_x86_64", "cp312-abi3-manylinux2014_x86_64",
                "cp311-cp311-manylinux_2_17_aarch64", "cp311-cp311d-manylinux_2_17_x86_64", "pp3-none-any",
                "cp311-cp311-manylinux_2_99_x86_64", "cp311-cp311-manylinux_2_4_x86_64"):
        assert tag not in tags, tag
    assert tags[-1] == "py30-none-any"


def test_recorded_debian13_probe():
    tags = _tags.supported_tags(PROBE_DEBIAN13)
    assert "cp313-cp313-manylinux_2_41_x86_64" in tags and "cp313-cp313-manylinux_2_42_x86_64" not in tags
    assert "cp38-abi3-manylinux2014_x86_64" in tags and "cp311-cp311-manylinux_2_17_x86_64" not in tags
    assert _interpreter.describe_interpreter(PROBE_DEBIAN13)["libc"] == "glibc 2.41"
    assert _interpreter.interpreter_label(PROBE_DEBIAN13) == "CPython 3.13.5"


def synthetic(**kw):
    probe = dict(PROBE_DEBIAN13)
    probe.update(kw)
    return probe


def test_musl_aarch64_has_musllinux_and_no_manylinux():
    probe = synthetic(sysconfig_platform="linux-aarch64", machine="aarch64", libc={"name": "musl", "version": "1.2.5"},
                      elf={"bits": 64, "endian": "little", "machine": 183, "flags": 0,
                           "interpreter": "/lib/ld-musl-aarch64.so.1"})
    assert _tags.platform_tags(probe) == ["linux_aarch64"] + ["musllinux_1_%d_aarch64" % m for m in (2, 1, 0)]
    tags = _tags.supported_tags(probe)
    assert "cp313-cp313-musllinux_1_2_aarch64" in tags and "cp313-cp313-manylinux_2_17_aarch64" not in tags


def test_glibc_floors_and_legacy_aliases():
    old = _tags.platform_tags(synthetic(libc={"name": "glibc", "version": "2.12"}))
    assert old == ["linux_x86_64", "manylinux_2_12_x86_64", "manylinux2010_x86_64"] + \
        ["manylinux_2_%d_x86_64" % m for m in (11, 10, 9, 8, 7, 6, 5)] + ["manylinux1_x86_64"]
    arm = _tags.platform_tags(synthetic(sysconfig_platform="linux-aarch64", libc={"name": "glibc", "version": "2.17"}))
    assert arm == ["linux_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"]
    assert _tags.platform_tags(synthetic(libc=None)) == ["linux_x86_64"]


def test_32bit_interpreters():
    i686 = synthetic(pointer_size=4, elf={"bits": 32, "endian": "little", "machine": 3, "flags": 0})
    assert _tags.platform_tags(i686)[:2] == ["linux_i686", "manylinux_2_41_i686"]
    # a 32-bit ARM userland on a 64-bit kernel: armv8l and armv7l, manylinux only with hard float
    armhf = synthetic(sysconfig_platform="linux-aarch64", pointer_size=4,
                      elf={"bits": 32, "endian": "little", "machine": 40, "flags": 0x05000400})
    plats = _tags.platform_tags(armhf)
    assert plats[:2] == ["linux_armv8l", "linux_armv7l"]
    assert "manylinux_2_17_armv7l" in plats and "manylinux2014_armv8l" in plats
    softfloat = dict(armhf, elf=dict(armhf["elf"], flags=0x05000000))
    assert _tags.platform_tags(softfloat) == ["linux_armv8l", "linux_armv7l"]


def test_pypy_free_threaded_debug_and_old_cpython_abis():
    pypy = synthetic(implementation="pypy", version_info=[3, 10, 14, "final", 0], version="3.10.14",
                     py_version_nodot="310", ext_suffix=".pypy310-pp73-x86_64-linux-gnu.so")
    tags = _tags.supported_tags(pypy)
    assert tags[0] == "pp310-pypy310_pp73-linux_x86_64"
    assert "pp310-pypy310_pp73-manylinux_2_17_x86_64" in tags and "pp310-none-manylinux2014_x86_64" in tags
    assert "pp3-none-any" in tags and "py310-none-any" in tags
    assert not [t for t in tags if t.startswith("cp") or "-abi3-" in t]

    ft = _tags.supported_tags(synthetic(gil_disabled=1))
    assert ft[0] == "cp313-cp313t-linux_x86_64"
    assert "cp313-abi3t-manylinux_2_17_x86_64" in ft and "cp39-abi3t-manylinux_2_17_x86_64" in ft
    assert not [t for t in ft if "-abi3-" in t or "-cp313-" in t]

    debug = _tags.supported_tags(synthetic(py_debug=1))
    assert "cp313-cp313d-manylinux_2_17_x86_64" in debug and "cp313-cp313-manylinux_2_17_x86_64" in debug

    py37 = _tags.supported_tags(synthetic(version_info=[3, 7, 3, "final", 0], py_version_nodot="37"))
    assert "cp37-cp37m-manylinux1_x86_64" in py37 and "cp37-cp37-manylinux1_x86_64" not in py37


def test_other_platforms_know_only_their_own_tag():
    mac = synthetic(platform="darwin", sysconfig_platform="macosx-11.0-arm64", libc=None, elf=None)
    tags = _tags.supported_tags(mac)
    assert tags[0] == "cp313-cp313-macosx_11_0_arm64" and "py3-none-any" in tags


def test_parse_probe_refuses_garbage():
    with pytest.raises(_archive.ZipappInfoError, match="no usable answer"):
        _interpreter.parse_probe("Traceback ...")
    with pytest.raises(_archive.ZipappInfoError):
        _interpreter.parse_probe(json.dumps({"implementation": "cpython"}))


def test_probe_and_module_code_parse_as_python36():
    sources = [_interpreter.INTERPRETER_PROBE_CODE]
    rels = ["plugins/module_utils/%s.py" % m for m in ("_archive", "_compatibility", "_interpreter", "_specifiers", "_tags")]
    for rel in rels + ["plugins/modules/zipapp_info.py"]:
        with open(os.path.join(ROOT, rel)) as f:
            sources.append(f.read())
    for source in sources:
        ast.parse(source, feature_version=(3, 6))
    assert _interpreter.interpreter_probe_code is _interpreter.INTERPRETER_PROBE_CODE


# ----------------------------------------------------------------------------------------------------
# Requires-Python
# ----------------------------------------------------------------------------------------------------

SPEC_CASES = [
    (">=3.10", "3.11.7", True), (">=3.10", "3.9.18", False), (">= 3.10", "3.10.0", True),
    ("<4,>=3.8", "3.11.7", True), ("<4,>=3.8", "3.7.17", False), (">=3.6, <4", "4.0.0", False),
    ("!=3.11.*", "3.11.7", False), ("!=3.11.*", "3.12.1", True), ("!=3.11.*,>=3.9", "3.10.0", True),
    ("~=3.9", "3.13.5", True), ("~=3.9", "3.8.10", False), ("~=3.9", "4.0.0", False),
    ("~=3.9.0", "3.9.18", True), ("~=3.9.0", "3.10.0", False),
    ("==3.*", "3.11.7", True), ("==3.*", "4.0.0", False), ("==3.11", "3.11.0", True), ("==3.11", "3.11.7", False),
    ("==3.11.*", "3.11.7", True), ("==3.1.*", "3.11.7", False),
    (">3.7.1", "3.7.1", False), (">3.7.1", "3.7.2", True), (">3.11", "3.11.7", True),
    ("<3.11", "3.11.0", False), ("<3.11", "3.10.14", True), ("<=3.11", "3.11.7", False), ("<=3.11.7", "3.11.7", True),
    ("!=3.11.7", "3.11.7", False), (">=3.13.0a1", "3.13.0", True), ("<3.13.0rc1", "3.13.0", False),
    (">=1!1.0", "3.11.7", False), ("===3.11.7", "3.11.7", True), ("", "3.11.7", True), (" ", "3.6.0", True),
    (">=3.8,!=3.9.0,!=3.9.1,<3.14", "3.9.2", True), (">=3.8,!=3.9.0,!=3.9.1,<3.14", "3.9.1", False),
]


@pytest.mark.parametrize("spec,version,expected", SPEC_CASES)
def test_requires_python(spec, version, expected):
    assert _specifiers.requires_python_ok(spec, version) is expected
    assert _specifiers.requires_python_ok(spec, tuple(int(v) for v in version.split("."))) is expected


@pytest.mark.parametrize("spec", [">=3.6.*", "=>3.6", "3.6", ">=", "~=3", ">=3.6,", ">=foo", "<3.11+local",
                                  ">=3.6 <4", "~=3.9.*", "python>=3.8"])
def test_unparseable_requires_python_is_an_error(spec):
    with pytest.raises(_specifiers.SpecifierError):
        _specifiers.requires_python_ok(spec, "3.11.7")


def test_requires_python_agrees_with_packaging():
    specifiers = pytest.importorskip("packaging.specifiers")
    versions = ["2.7.18", "3.0.0", "3.6.15", "3.7.1", "3.7.2", "3.8.0", "3.9.0", "3.9.1", "3.10.14", "3.11.0",
                "3.11.7", "3.12.0", "3.13.5", "3.14.0", "4.0.0"]
    for case in SPEC_CASES:
        spec = case[0]
        for version in versions:
            expected = specifiers.SpecifierSet(spec).contains(version, prereleases=True)
            assert _specifiers.requires_python_ok(spec, version) is expected, (spec, version)


# ----------------------------------------------------------------------------------------------------
# the check
# ----------------------------------------------------------------------------------------------------

@pytest.fixture
def orjson_pyz(tmp_path):
    abi3 = ("cryptography", "44.0.0", ["cp39-abi3-manylinux_2_28_x86_64"], ">=3.7",
            ["cryptography/__init__.py", "cryptography/hazmat/bindings/_rust.abi3.so"], True)
    return _archive.inspect_archive(make_shiv(tmp_path / "demoapp-1.1.0-orjson.pyz", [ORJSON, DJANGO, abi3]))


def test_check_compatible_with_the_build_python(orjson_pyz):
    p311 = fake_probe(PROBE_DEBIAN13, "3.11.2")
    result = _compatibility.check(orjson_pyz, p311)
    assert result["compatible"] and result["problems"] == []
    tags = dict((d["name"], d["tag"]) for d in result["distributions"])
    assert tags == {"orjson": "cp311-cp311-manylinux_2_17_x86_64", "Django": "py3-none-any",
                    "cryptography": "cp39-abi3-manylinux_2_28_x86_64"}


def test_check_names_orjson_on_313(orjson_pyz):
    result = _compatibility.check(orjson_pyz, PROBE_DEBIAN13)
    assert not result["compatible"]
    assert result["problems"] == [
        "orjson 3.10.18 has only cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64 wheels, none of which "
        "CPython 3.13.5 (linux_x86_64, glibc 2.41; it needs e.g. cp313-cp313-manylinux_2_41_x86_64) can load"]
    by_name = dict((d["name"], d) for d in result["distributions"])
    assert by_name["cryptography"]["compatible"] and by_name["Django"]["compatible"]
    assert not by_name["orjson"]["compatible"] and by_name["orjson"]["problems"] == result["problems"]


def test_check_requires_python_and_unknown_tags(tmp_path):
    new = ("newlib", "2.0", ["py3-none-any"], ">=3.12", ["newlib/__init__.py"], True)
    odd = ("oddlib", "1.0", ["py3-none-any"], ">=3.6.*", ["oddlib/__init__.py"], True)
    native = ("native", "2.0", None, None, ["native/_c.cpython-311-x86_64-linux-gnu.so"], True)
    musl = ("muslonly", "1.0", ["cp311-cp311-musllinux_1_1_x86_64"], None, ["muslonly/__init__.py"], True)
    info = _archive.inspect_archive(make_shiv(tmp_path / "x.pyz", [new, odd, native, musl]))
    result = _compatibility.check(info, fake_probe(PROBE_DEBIAN13, "3.11.7"))
    assert not result["compatible"]
    problems = result["problems"]
    assert len(problems) == 4
    assert problems[0] == "muslonly 1.0 has only cp311-cp311-musllinux_1_1_x86_64 wheels, none of which CPython " \
                          "3.11.7 (linux_x86_64, glibc 2.41; it needs e.g. cp311-cp311-manylinux_2_41_x86_64) can load"
    assert problems[1].startswith("native 2.0: its wheel tags are unknown because it was not installed from a wheel")
    assert "native/_c.cpython-311-x86_64-linux-gnu.so" in problems[1]
    assert problems[2] == "newlib 2.0: Requires-Python >=3.12 excludes CPython 3.11.7"
    assert problems[3].startswith("oddlib 1.0: Requires-Python '>=3.6.*' cannot be parsed")


def test_check_pex_any_wheel_of_a_project_fits_and_constraints(tmp_path):
    wheels = ["orjson-3.10.18-%s.whl" % ORJSON_TAG,
              "orjson-3.10.18-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
              "six-1.16.0-py2.py3-none-any.whl"]
    info = _archive.inspect_archive(make_pex(tmp_path / "app.pex", wheels, constraints=["CPython>=3.9,<3.14"]))
    for version in ("3.11.2", "3.13.5"):
        result = _compatibility.check(info, fake_probe(PROBE_DEBIAN13, version))
        assert result["compatible"], result
        assert [d["name"] for d in result["distributions"]] == ["orjson", "six"]
    result = _compatibility.check(info, fake_probe(PROBE_DEBIAN13, "3.14.0"))
    assert result["problems"][0] == "the pex's interpreter constraints CPython>=3.9,<3.14 exclude CPython 3.14.0"
    assert result["problems"][1].startswith("orjson 3.10.18 has only cp311-cp311-manylinux_2_17_x86_64."
                                            "manylinux2014_x86_64, cp313-cp313-manylinux_2_17_x86_64.")
    pex = make_pex(tmp_path / "b.pex", [], constraints=["CPython==3.13.*", "PyPy>=3.10"])
    pypy = _compatibility.check(_archive.inspect_archive(pex),
                                synthetic(implementation="pypy", version_info=[3, 10, 14, "final", 0],
                                          ext_suffix=".pypy310-pp73-x86_64-linux-gnu.so"))
    assert pypy["compatible"]


# ----------------------------------------------------------------------------------------------------
# cross-checks (need the packaging library) and the real orjson build
# ----------------------------------------------------------------------------------------------------

def test_supported_tags_match_packaging_sys_tags():
    tags_mod = pytest.importorskip("packaging.tags")
    probe = run_probe(sys.executable)
    ours = _tags.supported_tags(probe)
    theirs = [str(t) for t in tags_mod.sys_tags()]
    assert set(ours) == set(theirs)
    assert len(ours) == len(theirs)


@pytest.mark.parametrize("probe_kw", [
    {}, {"gil_disabled": 1}, {"py_debug": 1}, {"version_info": [3, 7, 3, "final", 0], "py_version_nodot": "37"},
    {"version_info": [3, 14, 0, "final", 0], "py_version_nodot": "314"},
])
def test_cpython_composition_matches_packaging(probe_kw):
    tags_mod = pytest.importorskip("packaging.tags")
    probe = synthetic(**probe_kw)
    platforms = _tags.platform_tags(probe)
    version = tuple(probe["version_info"][:2])
    abis = _tags._cpython_abis(probe)
    theirs = list(tags_mod.cpython_tags(version, abis, platforms)) + \
        list(tags_mod.compatible_tags(version, "cp" + probe["py_version_nodot"], platforms))
    assert _tags.supported_tags(probe) == [str(t) for t in theirs]


@pytest.mark.skipif(not os.environ.get("ZIPAPP_ORJSON_PYZ"),
                    reason="set ZIPAPP_ORJSON_PYZ to a pyz built by WITH_ORJSON=1 examples/build.sh")
def test_real_orjson_build():
    info = _archive.inspect_archive(os.environ["ZIPAPP_ORJSON_PYZ"])
    assert info["kind"] == "shiv" and info["entry_point"] == "demoapp._features:main"
    orjson = [d for d in info["distributions"] if d["name"] == "orjson"][0]
    probe = run_probe(os.environ.get("ZIPAPP_ORJSON_PYTHON", "/usr/bin/python3.11"))
    v = "%d%d" % tuple(probe["version_info"][:2])
    assert orjson["tags"][0].startswith("cp%s-cp%s-" % (v, v))
    result = _compatibility.check(info, probe)
    assert result["compatible"] and result["problems"] == []
    other = fake_probe(probe, "3.13.5" if v != "313" else "3.11.2")
    result = _compatibility.check(info, other)
    assert not result["compatible"]
    assert len(result["problems"]) == 1 and result["problems"][0].startswith("orjson 3.10.18 has only cp%s-" % v)

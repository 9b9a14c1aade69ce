# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Can this interpreter run this zipapp?  Checked before the swap, not found out at import time.

This is a private module_utils file: its interface may change without notice.

A shiv ``.pyz`` (or a ``.pex``) with compiled wheels runs only on the CPython minor version, ABI and
platform its wheels were built for; on another interpreter it fails late, at the first import of the
extension module (``ModuleNotFoundError``).  This module

- reads what an archive bundles (:func:`inspect_archive`): every distribution with its wheel tags and
  ``Requires-Python`` (shiv: ``site-packages/*.dist-info``; pex: the wheel names in ``PEX-INFO``),
- asks the *target* interpreter what it is (:data:`INTERPRETER_PROBE_CODE`, run with ``-I -S``),
- computes the wheel tags that interpreter supports (:func:`supported_tags`, the rules of PEP 425,
  PEP 600 (manylinux), PEP 656 (musllinux) and PEP 384 (abi3) as pip applies them),
- evaluates ``Requires-Python`` (:func:`requires_python_ok`, PEP 440 specifiers) and
- puts it together (:func:`check`): every problem names the distribution and the reason.

Linux is covered fully (CPython and PyPy, glibc and musl); on other platforms only the interpreter's
own platform tag is known.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import json
import posixpath
import re
import zipfile


class ZipappInfoError(Exception):
    """The archive or the interpreter cannot be inspected."""


class SpecifierError(ValueError):
    """A version specifier (``Requires-Python``, an interpreter constraint) cannot be parsed."""


# ----------------------------------------------------------------------------------------------------
# wheel tags
# ----------------------------------------------------------------------------------------------------

COMPILED_RE = re.compile(r"\.(?:so|pyd|dylib)(?:\.[0-9]+)*$", re.IGNORECASE)


def is_compiled(name):
    """Whether a file name is a compiled extension module or shared library."""
    return bool(COMPILED_RE.search(name))


def expand_tag(tag):
    """``cp311.cp312-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64`` -> every tag of the product."""
    parts = tag.strip().lower().split("-")
    if len(parts) != 3 or not all(parts) or any("" in p.split(".") for p in parts):
        raise ValueError("not a wheel tag: %r" % tag)
    return ["%s-%s-%s" % (i, a, p)
            for i in parts[0].split(".") for a in parts[1].split(".") for p in parts[2].split(".")]


def parse_wheel_filename(filename):
    """``name-version(-build)?-python-abi-platform.whl`` -> (name, version, expanded tags)."""
    base = posixpath.basename(filename)
    if not base.lower().endswith(".whl"):
        raise ValueError("not a wheel file name: %s" % base)
    parts = base[:-4].split("-")
    if len(parts) not in (5, 6):
        raise ValueError("not a wheel file name: %s" % base)
    return parts[0], parts[1], expand_tag("-".join(parts[-3:]))


def canonical_name(name):
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


# ----------------------------------------------------------------------------------------------------
# archives
# ----------------------------------------------------------------------------------------------------

def _headers(data):
    """RFC 822 style headers of METADATA / WHEEL / PKG-INFO: lower-cased name -> list of values."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    headers = {}
    last = None
    for line in text.splitlines():
        if not line.strip():
            break  # the body (description) starts
        if line[:1] in (" ", "\t") and last is not None:
            headers[last][-1] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        last = key.strip().lower()
        headers.setdefault(last, []).append(value.strip())
    return headers


def _first(headers, key):
    values = headers.get(key)
    return values[0] if values else None


def _record_paths(data):
    """The files listed in a dist-info RECORD, normalized."""
    text = data.decode("utf-8", "replace")
    paths = []
    for row in csv.reader(io.StringIO(text)):
        if row and row[0]:
            paths.append(posixpath.normpath(row[0]))
    return paths


def _dist_infos(names, prefix):
    """``<prefix><name>.dist-info`` / ``.egg-info`` directories among the archive's names."""
    found = set()
    for n in names:
        if not n.startswith(prefix):
            continue
        head = n[len(prefix):].split("/", 1)[0]
        if head.endswith((".dist-info", ".egg-info")) and "/" in n[len(prefix):]:
            found.add(head)
    return sorted(found)


def _installed_distributions(zf, names, prefix):
    """The distributions installed under ``prefix`` (shiv's site-packages, a plain zipapp's root)."""
    name_set = set(names)
    compiled_all = sorted(n[len(prefix):] for n in names if n.startswith(prefix) and is_compiled(n))
    infos = _dist_infos(names, prefix)
    records = {}
    for info in infos:
        rec = prefix + info + "/RECORD"
        if rec in name_set:
            records[info] = _record_paths(zf.read(rec))
    claimed = set(p for paths in records.values() for p in paths)
    dists = []
    for info in infos:
        base = prefix + info + "/"
        meta_file = base + ("PKG-INFO" if info.endswith(".egg-info") else "METADATA")
        meta = _headers(zf.read(meta_file)) if meta_file in name_set else {}
        stem = info.rsplit(".", 1)[0]
        fallback_name, dummy, fallback_version = stem.partition("-")
        dist = {
            "name": _first(meta, "name") or fallback_name,
            "version": _first(meta, "version") or fallback_version.split("-")[0] or None,
            "requires_python": _first(meta, "requires-python") or None,
            "source": prefix + info,
            "tags": None,
        }
        wheel_file = base + "WHEEL"
        if wheel_file in name_set:
            tags = []
            for value in _headers(zf.read(wheel_file)).get("tag", []):
                try:
                    tags.extend(t for t in expand_tag(value) if t not in tags)
                except ValueError:
                    pass
            if tags:
                dist["tags"] = tags
            else:
                dist["tags_unknown"] = "its WHEEL file has no valid Tag: line"
        else:
            # installed from an sdist (no WHEEL): pure Python only if nothing it installed is compiled
            if info in records:
                own = [p for p in records[info] if is_compiled(p)]
            else:
                own = [p for p in compiled_all if p not in claimed]
            if own:
                dist["tags_unknown"] = ("it was not installed from a wheel (no WHEEL file) and has compiled "
                                        "extensions (%s)" % _short_list(own, 3))
                dist["compiled"] = own
            else:
                dist["tags"] = ["py3-none-any"]
                dist["assumed_pure"] = True
        dists.append(dist)
    return dists


def _pex_distributions(zf, names, pex_info):
    name_set = set(names)
    # .deps/<wheel file name>/<project>-<version>.dist-info/METADATA (pex installs each wheel there)
    metadata_files = {}
    for n in names:
        parts = n.split("/")
        if len(parts) == 4 and parts[0] == ".deps" and parts[2].endswith(".dist-info") and parts[3] == "METADATA":
            metadata_files.setdefault(parts[1], n)
    dists = []
    for whl in sorted(pex_info.get("distributions") or {}):
        dist = {"name": None, "version": None, "requires_python": None, "source": ".deps/" + whl, "tags": None}
        try:
            dist["name"], dist["version"], dist["tags"] = parse_wheel_filename(whl)
        except ValueError as e:
            dist["name"] = whl
            dist["tags_unknown"] = str(e)
        meta = zf.read(metadata_files[whl]) if whl in metadata_files else None
        if meta is None and ".deps/" + whl in name_set:
            # pex --no-pre-install-wheels: the wheel file itself
            try:
                with zipfile.ZipFile(io.BytesIO(zf.read(".deps/" + whl))) as wz:
                    for n in wz.namelist():
                        if n.count("/") == 1 and n.endswith(".dist-info/METADATA"):
                            meta = wz.read(n)
                            break
            except zipfile.BadZipfile:
                pass
        if meta is not None:
            headers = _headers(meta)
            dist["requires_python"] = _first(headers, "requires-python") or None
            dist["name"] = _first(headers, "name") or dist["name"]
        dists.append(dist)
    return dists


def inspect_archive(path):
    """Describe the zipapp at ``path`` (a zip, possibly after a shebang line) and what it bundles.

    This is the one reader of an artifact's contents: the deploy (which kind to prepare, its build id)
    and the compatibility check use it alike.  Returns a dict: ``kind`` (``pex``, ``shiv`` or ``zipapp``),
    ``build_id``, ``entry_point``, ``shebang``, ``includes_tools``/``pex_version``/``interpreter_constraints``
    (pex), ``shiv_version`` (shiv) and ``distributions``, each with ``name``,
    ``version``, ``tags`` (expanded wheel tags, or None when unknown, with ``tags_unknown`` saying
    why), ``requires_python`` and ``source`` (where in the archive it was found).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(512)
        zf = zipfile.ZipFile(path)
    except (IOError, OSError, zipfile.BadZipfile) as e:
        raise ZipappInfoError("%s is not a zip application: %s" % (path, e))
    shebang = None
    if head.startswith(b"#!"):
        shebang = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    info = {"path": path, "shebang": shebang, "interpreter_constraints": []}
    try:
        with zf:
            names = zf.namelist()
            name_set = set(names)
            # PEX-INFO first: it is what makes a pex, whatever else the archive holds
            if "PEX-INFO" in name_set:
                try:
                    pex_info = json.loads(zf.read("PEX-INFO").decode("utf-8"))
                except ValueError as e:
                    raise ZipappInfoError("%s: PEX-INFO is not JSON: %s" % (path, e))
                info.update(kind="pex", build_id=pex_info.get("pex_hash") or pex_info.get("code_hash"),
                            entry_point=pex_info.get("entry_point") or pex_info.get("script"),
                            includes_tools=bool(pex_info.get("includes_tools")),
                            pex_version=(pex_info.get("build_properties") or {}).get("pex_version"),
                            interpreter_constraints=list(pex_info.get("interpreter_constraints") or []),
                            distributions=_pex_distributions(zf, names, pex_info))
            elif "environment.json" in name_set and any(n.startswith("_bootstrap/") for n in names):
                try:
                    env = json.loads(zf.read("environment.json").decode("utf-8"))
                except ValueError as e:
                    raise ZipappInfoError("%s: environment.json is not JSON: %s" % (path, e))
                info.update(kind="shiv", build_id=env.get("build_id"), shiv_version=env.get("shiv_version"),
                            entry_point=env.get("entry_point") or env.get("script"),
                            distributions=_installed_distributions(zf, names, "site-packages/"))
            elif "__main__.py" in name_set:
                info.update(kind="zipapp", build_id=None, entry_point="__main__.py",
                            distributions=_installed_distributions(zf, names, ""))
            else:
                raise ZipappInfoError("%s has neither shiv's environment.json, a PEX-INFO nor a __main__.py: "
                                      "not a runnable zipapp" % path)
    except (zipfile.BadZipfile, KeyError, IOError, OSError) as e:
        raise ZipappInfoError("%s cannot be read: %s" % (path, e))
    info["distributions"].sort(key=lambda d: (canonical_name(d["name"] or ""), d["source"]))
    return info


# ----------------------------------------------------------------------------------------------------
# the target interpreter
# ----------------------------------------------------------------------------------------------------

# Runs under the target interpreter with ``-I -S`` (Python 3.6 to 3.14: no f-strings, no walrus, no
# subprocess.run(capture_output=...)) and prints one JSON object: what supported_tags() needs.
INTERPRETER_PROBE_CODE = r'''
import json, os, struct, sys, sysconfig

def config_var(name):
    try:
        return sysconfig.get_config_var(name)
    except Exception:
        return None

def elf_header(path):
    """Class, machine, flags and program interpreter (PT_INTERP) of an ELF executable."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if len(head) < 52 or head[:4] != b"\x7fELF":
                return None
            bits = {1: 32, 2: 64}.get(head[4])
            end = {1: "<", 2: ">"}.get(head[5])
            if bits is None or end is None:
                return None
            machine = struct.unpack(end + "H", head[18:20])[0]
            if bits == 64:
                phoff = struct.unpack(end + "Q", head[32:40])[0]
                flags = struct.unpack(end + "I", head[48:52])[0]
                phentsize, phnum = struct.unpack(end + "HH", head[54:58])
            else:
                phoff = struct.unpack(end + "I", head[28:32])[0]
                flags = struct.unpack(end + "I", head[36:40])[0]
                phentsize, phnum = struct.unpack(end + "HH", head[42:46])
            interpreter = None
            for i in range(min(phnum, 256)):
                f.seek(phoff + i * phentsize)
                ph = f.read(phentsize)
                if bits == 64:
                    ptype = struct.unpack(end + "I", ph[0:4])[0]
                    offset, size = struct.unpack(end + "Q", ph[8:16])[0], struct.unpack(end + "Q", ph[32:40])[0]
                else:
                    ptype = struct.unpack(end + "I", ph[0:4])[0]
                    offset, size = struct.unpack(end + "I", ph[4:8])[0], struct.unpack(end + "I", ph[16:20])[0]
                if ptype == 3:  # PT_INTERP
                    f.seek(offset)
                    interpreter = f.read(min(size, 4096)).rstrip(b"\0").decode("ascii", "replace")
                    break
            return {"bits": bits, "endian": "little" if end == "<" else "big", "machine": machine,
                    "flags": flags, "interpreter": interpreter}
    except (IOError, OSError, ValueError, struct.error):
        return None

def glibc_version():
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"
        if value and value.split()[0] == "glibc":
            return value.split()[1]
    except (AttributeError, ValueError, OSError, IndexError):
        pass
    try:
        import ctypes
        func = ctypes.CDLL(None).gnu_get_libc_version
        func.restype = ctypes.c_char_p
        value = func()
        return value.decode("ascii") if isinstance(value, bytes) else value
    except Exception:
        return None

def musl_version(loader):
    """The loader of a musl-linked Python prints "musl libc (x86_64)\nVersion 1.2.4" when run."""
    import re, subprocess
    try:
        proc = subprocess.Popen([loader], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate()
    except (IOError, OSError):
        return None
    m = re.search(r"Version ([0-9]+\.[0-9]+(?:\.[0-9]+)?)", (err or b"").decode("utf-8", "replace"))
    return m.group(1) if m else None

try:
    from importlib.machinery import EXTENSION_SUFFIXES as suffixes
    suffixes = list(suffixes)
except ImportError:
    suffixes = []
elf = elf_header(sys.executable) if sys.platform.startswith("linux") else None
libc = None
if sys.platform.startswith("linux"):
    version = glibc_version()
    if version:
        libc = {"name": "glibc", "version": version}
    elif elf and elf.get("interpreter") and "musl" in elf["interpreter"]:
        libc = {"name": "musl", "version": musl_version(elf["interpreter"])}
probe = {
    "probe": 1,
    "executable": sys.executable,
    "implementation": sys.implementation.name,
    "version_info": list(sys.version_info),
    "version": sys.version.split()[0],
    "platform": sys.platform,
    "sysconfig_platform": sysconfig.get_platform(),
    "machine": os.uname()[4] if hasattr(os, "uname") else None,
    "maxsize": sys.maxsize,
    "pointer_size": struct.calcsize("P"),
    "soabi": config_var("SOABI"),
    "ext_suffix": config_var("EXT_SUFFIX"),
    "extension_suffixes": suffixes,
    "py_version_nodot": config_var("py_version_nodot"),
    "py_debug": config_var("Py_DEBUG"),
    "gettotalrefcount": hasattr(sys, "gettotalrefcount"),
    "gil_disabled": config_var("Py_GIL_DISABLED"),
    "with_pymalloc": config_var("WITH_PYMALLOC"),
    "libc": libc,
    "elf": elf,
}
if probe["implementation"] == "pypy":
    probe["pypy_version_info"] = list(sys.pypy_version_info)[:3]
print(json.dumps(probe))
'''

# the name issue 3 uses
interpreter_probe_code = INTERPRETER_PROBE_CODE


def probe_command(python):
    """The command that runs the probe with ``python``."""
    return [python, "-I", "-S", "-c", INTERPRETER_PROBE_CODE]


def parse_probe(text):
    """The probe's JSON output as a dict (ZipappInfoError if it is not)."""
    try:
        probe = json.loads(text)
    except ValueError:
        probe = None
    if not isinstance(probe, dict) or not probe.get("implementation") or len(probe.get("version_info") or []) < 3:
        raise ZipappInfoError("the interpreter probe printed no usable answer: %s" % (text or "").strip()[-500:])
    return probe


_SHORT_NAMES = {"cpython": "cp", "pypy": "pp", "ironpython": "ip", "jython": "jy", "python": "py"}
_DISPLAY_NAMES = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy", "ironpython": "IronPython"}

# PEP 600: the legacy manylinux names of glibc versions
_LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
# architectures manylinux wheels exist for without an ABI check of the executable (i686/armv7l have one)
_MANYLINUX_ARCHS = frozenset(["x86_64", "aarch64", "ppc64", "ppc64le", "s390x", "loongarch64", "riscv64"])
_EM_386, _EM_ARM = 3, 40


def _normalize_platform(value):
    return value.replace(".", "_").replace("-", "_").replace(" ", "_")


def _major_minor(value):
    m = re.match(r"([0-9]+)\.([0-9]+)", value or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def _pyver(probe):
    return tuple(int(v) for v in probe["version_info"][:2])


def _nodot(version):
    return "".join(str(v) for v in version)


def _interpreter_version(probe):
    return str(probe.get("py_version_nodot") or _nodot(_pyver(probe)))


def _is_32bit(probe):
    size = probe.get("pointer_size")
    if size:
        return size == 4
    return probe.get("maxsize", 2 ** 63 - 1) <= 2 ** 31 - 1


def _manylinux_abi_ok(probe, archs):
    """The ABI of the executable matches what manylinux wheels of ``archs`` need."""
    elf = probe.get("elf") or {}
    if "armv7l" in archs:
        # 32-bit little-endian ARM, EABI version 5, hard float
        flags = elf.get("flags") or 0
        return (elf.get("bits") == 32 and elf.get("endian") == "little" and elf.get("machine") == _EM_ARM
                and flags & 0xFF000000 == 0x05000000 and flags & 0x400 == 0x400)
    if "i686" in archs:
        return elf.get("bits") == 32 and elf.get("endian") == "little" and elf.get("machine") == _EM_386
    return any(a in _MANYLINUX_ARCHS for a in archs)


def _linux_platforms(probe):
    plat = _normalize_platform(probe.get("sysconfig_platform") or "linux-%s" % probe.get("machine"))
    if not plat.startswith("linux_"):
        return [plat]
    arch = plat[len("linux_"):]
    if _is_32bit(probe):
        arch = {"x86_64": "i686", "aarch64": "armv8l"}.get(arch, arch)
    archs = ["armv8l", "armv7l"] if arch == "armv8l" else [arch]
    platforms = ["linux_%s" % a for a in archs]
    libc = probe.get("libc") or {}
    current = _major_minor(libc.get("version"))
    if libc.get("name") == "glibc" and current and _manylinux_abi_ok(probe, archs):
        # every glibc from the current one down to 2.5 (x86) or 2.17 (the others); a later major
        # version of glibc keeps the ABI of the earlier ones
        oldest = (2, 5) if set(archs) & set(["x86_64", "i686"]) else (2, 17)
        tops = [current] + [(major, 50) for major in range(current[0] - 1, 1, -1)]
        for a in archs:
            for major, top in tops:
                bottom = oldest[1] if major == oldest[0] else 0
                for minor in range(top, bottom - 1, -1):
                    platforms.append("manylinux_%d_%d_%s" % (major, minor, a))
                    legacy = _LEGACY_MANYLINUX.get((major, minor))
                    if legacy:
                        platforms.append("%s_%s" % (legacy, a))
    if libc.get("name") == "musl" and current:
        for a in archs:
            for minor in range(current[1], -1, -1):
                platforms.append("musllinux_%d_%d_%s" % (current[0], minor, a))
    return platforms


def platform_tags(probe):
    """The platform tags of the probed interpreter, most specific first."""
    if str(probe.get("platform", "")).startswith("linux"):
        return _linux_platforms(probe)
    return [_normalize_platform(probe.get("sysconfig_platform") or str(probe.get("platform")))]


def _cpython_abis(probe):
    version = _pyver(probe)
    debug = probe.get("py_debug")
    if debug is None:
        debug = probe.get("gettotalrefcount") or "_d.pyd" in (probe.get("extension_suffixes") or [])
    d = "d" if debug else ""
    t = "t" if version >= (3, 13) and probe.get("gil_disabled") else ""
    m = ""
    if version < (3, 8) and (probe.get("with_pymalloc") or probe.get("with_pymalloc") is None):
        m = "m"
    abis = ["cp%s%s%s%s" % (_nodot(version), t, d, m)]
    if version >= (3, 8) and d:
        abis.append("cp%s%s" % (_nodot(version), t))  # a debug build also loads release extensions
    return abis


def _generic_abis(probe):
    suffix = probe.get("ext_suffix") or ""
    parts = suffix.split(".")
    if len(parts) < 3:
        return _cpython_abis(probe) if probe.get("implementation") == "cpython" else []
    soabi = parts[1]
    if soabi.startswith("cpython"):
        abi = "cp" + soabi.split("-")[1]
    elif soabi.startswith("cp"):
        abi = soabi.split("-")[0]
    elif soabi.startswith("pypy"):
        abi = "-".join(soabi.split("-")[:2])
    elif soabi.startswith("graalpy"):
        abi = "-".join(soabi.split("-")[:3])
    else:
        abi = soabi
    return [_normalize_platform(abi)] if abi else []


def _python_versions(version):
    """py311, py3, py310, ... py30."""
    major, minor = version
    return ["py%d%d" % (major, minor), "py%d" % major] + ["py%d%d" % (major, m) for m in range(minor - 1, -1, -1)]


def supported_tags(probe):
    """Every wheel tag the probed interpreter can load, the most specific first (as pip orders them)."""
    version = _pyver(probe)
    implementation = probe["implementation"]
    platforms = platform_tags(probe)
    tags = []
    if implementation == "cpython":
        interpreter = "cp" + _nodot(version)
        abis = _cpython_abis(probe)
        threaded = "t" in abis[0][2 + len(_nodot(version)):]
        for abi in abis:
            tags.extend("%s-%s-%s" % (interpreter, abi, p) for p in platforms)
        stable = None
        if version >= (3, 2):
            stable = "abi3t" if threaded else "abi3"
            tags.extend("%s-%s-%s" % (interpreter, stable, p) for p in platforms)
        tags.extend("%s-none-%s" % (interpreter, p) for p in platforms)
        if stable:
            for minor in range(version[1] - 1, 1, -1):
                tags.extend("cp%d%d-%s-%s" % (version[0], minor, stable, p) for p in platforms)
        any_interpreter = "cp" + _interpreter_version(probe)
    else:
        interpreter = _SHORT_NAMES.get(implementation, implementation) + _interpreter_version(probe)
        for abi in _generic_abis(probe) + ["none"]:
            tags.extend("%s-%s-%s" % (interpreter, abi, p) for p in platforms)
        any_interpreter = "pp3" if implementation == "pypy" else None
    pys = _python_versions(version)
    for py in pys:
        tags.extend("%s-none-%s" % (py, p) for p in platforms)
    if any_interpreter:
        tags.append("%s-none-any" % any_interpreter)
    tags.extend("%s-none-any" % py for py in pys)
    seen = set()
    return [t for t in tags if not (t in seen or seen.add(t))]


def describe_interpreter(probe, tags=None):
    """A short summary of the probed interpreter."""
    tags = supported_tags(probe) if tags is None else tags
    libc = probe.get("libc") or {}
    return {
        "executable": probe.get("executable"),
        "implementation": _DISPLAY_NAMES.get(probe["implementation"], probe["implementation"]),
        "version": probe.get("version") or ".".join(str(v) for v in probe["version_info"][:3]),
        "platform": platform_tags(probe)[0],
        "libc": ("%s %s" % (libc.get("name"), libc.get("version") or "?")) if libc else None,
        "abi": tags[0].split("-")[1] if tags else None,
        "best_tag": tags[0] if tags else None,
        "tag_count": len(tags),
        "platforms": platform_tags(probe),
    }


def interpreter_label(probe):
    """``CPython 3.13.5``."""
    return "%s %s" % (_DISPLAY_NAMES.get(probe["implementation"], probe["implementation"]),
                      probe.get("version") or ".".join(str(v) for v in probe["version_info"][:3]))


# ----------------------------------------------------------------------------------------------------
# PEP 440 version specifiers
# ----------------------------------------------------------------------------------------------------

_VERSION_RE = re.compile(r"""
    ^\s*v?
    (?:(?P<epoch>[0-9]+)!)?
    (?P<release>[0-9]+(?:\.[0-9]+)*)
    (?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
    (?:-(?P<post_n1>[0-9]+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?)?
    (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
    \s*$""", re.VERBOSE | re.IGNORECASE)

_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}

_CLAUSE_RE = re.compile(r"^\s*(~=|===|==|!=|<=|>=|<|>)\s*(\S+)\s*$")


class _Version:
    """A parsed PEP 440 version (just what comparing needs)."""

    def __init__(self, text):
        m = _VERSION_RE.match(text)
        if not m:
            raise SpecifierError("invalid version %r" % text)
        self.text = text.strip()
        self.epoch = int(m.group("epoch") or 0)
        self.release = tuple(int(p) for p in m.group("release").split("."))
        self.pre = (_PRE_RANK[m.group("pre_l").lower()], int(m.group("pre_n") or 0)) if m.group("pre_l") else None
        if m.group("post_n1") is not None:
            self.post = int(m.group("post_n1"))
        elif m.group("post_l"):
            self.post = int(m.group("post_n2") or 0)
        else:
            self.post = None
        self.dev = int(m.group("dev_n") or 0) if m.group("dev_l") else None
        self.local = re.sub(r"[-_.]", ".", m.group("local").lower()) if m.group("local") else None

    @property
    def is_prerelease(self):
        return self.pre is not None or self.dev is not None

    @property
    def base(self):
        return (self.epoch, _strip_zeros(self.release))

    @property
    def key(self):
        if self.pre is None and self.post is None and self.dev is not None:
            pre = (-1,)  # 1.0.dev0 sorts before 1.0a0
        elif self.pre is None:
            pre = (1,)
        else:
            pre = (0,) + self.pre
        post = (-1,) if self.post is None else (0, self.post)
        dev = (1,) if self.dev is None else (0, self.dev)
        return (self.epoch, _strip_zeros(self.release), pre, post, dev)


def _strip_zeros(release):
    release = list(release)
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    return tuple(release)


def _prefix_match(candidate, epoch, prefix):
    release = tuple(candidate.release) + (0,) * max(0, len(prefix) - len(candidate.release))
    return candidate.epoch == epoch and release[:len(prefix)] == tuple(prefix)


def _check_clause(op, text):
    """Validate one clause; SpecifierError when it is not PEP 440."""
    if op == "===":
        return
    if text.endswith(".*"):
        if op not in ("==", "!="):
            raise SpecifierError("a wildcard is only allowed with == and !=, not in %s%s" % (op, text))
        prefix = _Version(text[:-2])
        if prefix.pre or prefix.post is not None or prefix.dev is not None or prefix.local:
            raise SpecifierError("invalid prefix in %s%s" % (op, text))
        return
    spec = _Version(text)
    if spec.local and op not in ("==", "!="):
        raise SpecifierError("a local version is not allowed in %s%s" % (op, text))
    if op == "~=" and len(spec.release) < 2:
        raise SpecifierError("~= needs at least two release segments: ~=%s" % text)


def _clause_ok(op, text, candidate):
    if op == "===":
        return candidate.text.lower() == text.lower()
    if text.endswith(".*"):
        prefix = _Version(text[:-2])
        matched = _prefix_match(candidate, prefix.epoch, prefix.release)
        return matched if op == "==" else not matched
    spec = _Version(text)
    if op in ("==", "!="):
        equal = spec.key == candidate.key and (spec.local is None or spec.local == candidate.local)
        return equal if op == "==" else not equal
    if op == "~=":
        return candidate.key >= spec.key and _prefix_match(candidate, spec.epoch, spec.release[:-1])
    if op == ">=":
        return candidate.key >= spec.key
    if op == "<=":
        return candidate.key <= spec.key
    if op == "<":
        # <3.13 does not let 3.13.0rc1 in
        if candidate.key >= spec.key:
            return False
        return spec.is_prerelease or not candidate.is_prerelease or candidate.base != spec.base
    # op == ">": >3.7.1 does not let 3.7.1.post1 (or 3.7.1+local) in
    if candidate.key <= spec.key:
        return False
    if spec.post is None and candidate.post is not None and candidate.base == spec.base:
        return False
    return not (candidate.local and candidate.base == spec.base)


def parse_specifier(spec):
    """``<4,>=3.8`` -> [("<", "4"), (">=", "3.8")]; SpecifierError when it is not a PEP 440 specifier set."""
    clauses = []
    if not (spec or "").strip():
        return clauses
    for part in spec.split(","):
        m = _CLAUSE_RE.match(part)
        if not m:
            raise SpecifierError("%r is not a version specifier" % part.strip() if part.strip()
                                 else "empty clause in %r" % spec)
        _check_clause(m.group(1), m.group(2))
        clauses.append((m.group(1), m.group(2)))
    return clauses


def requires_python_ok(spec, version):
    """Whether ``version`` (``"3.11.7"`` or ``(3, 11, 7)``) satisfies the specifier set ``spec``.

    Raises SpecifierError when ``spec`` is not a PEP 440 specifier set (an empty one admits all).
    As pip does, pass the interpreter's release (``sys.version_info[:3]``): a 3.13.0rc1 counts as
    3.13.0.
    """
    if not isinstance(version, str):
        version = ".".join(str(v) for v in version)
    candidate = _Version(version)
    return all(_clause_ok(op, text, candidate) for op, text in parse_specifier(spec))


def constraint_ok(constraint, probe):
    """A pex interpreter constraint (``CPython>=3.9,<3.14``, ``>=3.8``, ``PyPy==3.10.*``) for the probe."""
    m = re.match(r"^\s*([A-Za-z][A-Za-z0-9_]*)?\s*(.*)$", constraint)
    name, spec = m.group(1), m.group(2)
    if name and name.lower() != probe["implementation"].lower():
        return False
    return requires_python_ok(spec, probe["version_info"][:3])


# ----------------------------------------------------------------------------------------------------
# the check
# ----------------------------------------------------------------------------------------------------

def _short_list(items, limit=6):
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (" (+%d more)" % (len(items) - limit) if len(items) > limit else "")


def compress_tags(tags):
    """[cp311-cp311-manylinux_2_17_x86_64, cp311-cp311-manylinux2014_x86_64] -> as in a wheel's file name."""
    grouped = []
    for tag in tags:
        interpreter, abi, platform = tag.split("-", 2)
        for entry in grouped:
            if entry[0] == (interpreter, abi):
                entry[1].append(platform)
                break
        else:
            grouped.append(((interpreter, abi), [platform]))
    return ["%s-%s-%s" % (ia[0], ia[1], ".".join(platforms)) for ia, platforms in grouped]


def _needs(probe, tags):
    """CPython 3.13.5 (linux_x86_64, glibc 2.41; it needs e.g. cp313-cp313-manylinux_2_41_x86_64)."""
    libc = probe.get("libc") or {}
    where = platform_tags(probe)[0]
    if libc:
        where += ", %s %s" % (libc.get("name"), libc.get("version") or "?")
    example = next((t for t in tags if not t.split("-", 2)[2].startswith("linux_")), tags[0] if tags else "?")
    return "%s (%s; it needs e.g. %s)" % (interpreter_label(probe), where, example)


def _constraint_problems(constraints, probe):
    if not constraints:
        return []
    errors, ok = [], False
    for constraint in constraints:
        try:
            ok = constraint_ok(constraint, probe) or ok
        except SpecifierError as e:
            errors.append("the pex's interpreter constraint %r cannot be parsed: %s" % (constraint, e))
    if errors:
        return errors
    if not ok:
        return ["the pex's interpreter constraints %s exclude %s" % (" or ".join(constraints), interpreter_label(probe))]
    return []


def _check_distribution(dists, probe, tags, rank, release):
    """(result, problems) of one project (pex: all its wheels; it fits when one of them does)."""
    key = canonical_name(dists[0].get("name") or "")
    name = dists[0].get("name") or key
    version = "/".join(sorted(set(d.get("version") or "?" for d in dists)))
    title = "%s %s" % (name, version)
    result = {"name": name, "version": version, "compatible": False, "tag": None}
    fitting = []
    for d in dists:
        matched = [t for t in (d.get("tags") or []) if t in rank]
        if matched:
            fitting.append((min(matched, key=rank.get), d))
    fitting.sort(key=lambda pair: rank[pair[0]])
    problems = []
    for tag, d in fitting:
        spec = d.get("requires_python")
        try:
            if not spec or requires_python_ok(spec, release):
                result.update(compatible=True, tag=tag)
                return result, []
            problems.append("%s: Requires-Python %s excludes %s %s"
                            % (title, spec, interpreter_label(probe).split()[0], ".".join(str(v) for v in release)))
        except SpecifierError as e:
            problems.append("%s: Requires-Python %r cannot be parsed (%s), so it cannot be checked against %s"
                            % (title, spec, e, interpreter_label(probe)))
    if not fitting:
        known = []
        for d in dists:
            known.extend(t for t in d.get("tags") or [] if t not in known)
        if known:
            problems.append("%s has only %s wheels, none of which %s can load"
                            % (title, _short_list(compress_tags(known)), _needs(probe, tags)))
        for d in dists:
            if d.get("tags") is None:
                problems.append("%s: its wheel tags are unknown because %s, so it cannot be checked against %s "
                                "(build the zipapp from wheels)"
                                % (title, d.get("tags_unknown") or "it has none", interpreter_label(probe)))
    seen = set()
    problems = [p for p in problems if not (p in seen or seen.add(p))]
    result["problems"] = problems
    return result, problems


def check(archive_info, probe, tags=None):
    """Whether the probed interpreter can run everything ``archive_info`` bundles.

    Returns ``compatible``, ``problems`` (one sentence per problem, each naming the distribution
    and why) and ``distributions`` (per project: ``compatible``, the best matching ``tag`` and its
    ``problems``).  A distribution (pex: any one of its wheels) fits when one of its wheel tags is
    supported and its ``Requires-Python`` admits the interpreter's release.
    """
    tags = supported_tags(probe) if tags is None else list(tags)
    rank = {}
    for i, t in enumerate(tags):
        rank.setdefault(t, i)
    release = tuple(int(v) for v in probe["version_info"][:3])
    problems = _constraint_problems(archive_info.get("interpreter_constraints"), probe)
    groups = {}
    for dist in archive_info.get("distributions") or []:
        groups.setdefault(canonical_name(dist.get("name") or ""), []).append(dist)
    results = []
    for key in sorted(groups):
        result, found = _check_distribution(groups[key], probe, tags, rank, release)
        results.append(result)
        problems.extend(found)
    return {"compatible": not problems, "problems": problems, "distributions": results}

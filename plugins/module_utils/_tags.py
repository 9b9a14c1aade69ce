# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PEP 425 wheel tags: those of a wheel's file name, and those a probed interpreter supports.

This is a private module_utils file: its interface may change without notice.

:func:`supported_tags` applies the rules of PEP 425, PEP 600 (manylinux), PEP 656 (musllinux) and
PEP 384 (abi3) as pip does, to what :mod:`._interpreter`'s probe reports.  Linux is covered fully
(CPython and PyPy, glibc and musl); on other platforms only the interpreter's own platform tag is known.
"""

import posixpath
import re

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


_SHORT_NAMES = {"cpython": "cp", "pypy": "pp", "ironpython": "ip", "jython": "jy", "python": "py"}

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

# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PEP 440 version specifiers: ``Requires-Python`` and pex interpreter constraints.

This is a private module_utils file: its interface may change without notice.
"""

import re


class SpecifierError(ValueError):
    """A version specifier (``Requires-Python``, an interpreter constraint) cannot be parsed."""


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

import os
import stat
import zipfile

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _build as b

LOCK = """\
# pip-compile --generate-hashes
django==5.2.19 \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
    # via demoapp
asgiref==3.13.0 ; python_version >= "3.11"
Gunicorn[gevent]===27.0.1  # a comment
--index-url https://pypi.org/simple
mylib @ https://example.com/mylib-1.0-py3-none-any.whl
"""


def test_read_pins_of_a_lock_file():
    assert b.read_pins(LOCK) == {"django": "5.2.19", "asgiref": "3.13.0", "gunicorn": "27.0.1", "mylib": None}


@pytest.mark.parametrize("line", ["Django>=5.2", "django", "django==5.*", "django~=5.2", "-r other.txt",
                                  "-e .", "--requirement=x.txt", "-c constraints.txt"])
def test_read_pins_refuses_what_is_not_exact(line):
    with pytest.raises(b.BuildError, match="pin every requirement exactly"):
        b.read_pins("asgiref==3.13.0\n%s\n" % line, "requirements.txt")


def make_pyz(path, dists, local=("demoapp",)):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("__main__.py", "")
        for name, version in dists:
            zf.writestr("site-packages/%s-%s.dist-info/METADATA" % (name, version), "Name: %s\n" % name)
            if name in local:
                zf.writestr("site-packages/%s-%s.dist-info/direct_url.json" % (name, version), "{}")


def test_zip_distributions_and_unpinned(tmp_path):
    pyz = str(tmp_path / "a.pyz")
    make_pyz(pyz, [("demoapp", "1.0"), ("django", "5.2.19"), ("asgiref", "3.13.0"), ("sqlparse", "0.6.1")])
    dists = b.zip_distributions(pyz)
    assert ("demoapp", "1.0", True) in dists and ("django", "5.2.19", False) in dists
    assert b.unpinned(dists, {"django": "5.2.19", "asgiref": "3.12"}) == ["asgiref==3.13.0", "sqlparse==0.6.1"]
    assert b.unpinned(dists, {"django": "5.2.19", "asgiref": "3.13.0", "sqlparse": None}) == []


def test_copy_project_leaves_out_leftovers_and_normalises_modes(tmp_path):
    src = tmp_path / "proj"
    for rel in ("pkg/__init__.py", "pkg/__pycache__/x.pyc", "build/lib/pkg.py", "pkg.egg-info/PKG-INFO",
                ".git/HEAD", "pyproject.toml", "bin/tool", "pkg/mod.pyc"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(rel)
    os.chmod(str(src / "pyproject.toml"), 0o600)
    os.chmod(str(src / "bin/tool"), 0o700)
    dest = tmp_path / "staging" / "proj"
    dest.mkdir(parents=True)
    (dest / "stale.py").write_text("from an earlier build")
    b.copy_project(str(src), str(dest))
    found = sorted(os.path.relpath(os.path.join(r, f), str(dest)) for r, _d, fs in os.walk(str(dest)) for f in fs)
    assert found == ["bin/tool", "pkg/__init__.py", "pyproject.toml"]
    assert stat.S_IMODE(os.stat(str(dest / "pyproject.toml")).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(str(dest / "bin/tool")).st_mode) == 0o755


def test_write_version_file(tmp_path):
    (tmp_path / "pkg").mkdir()
    b.write_version_file(str(tmp_path), "pkg/_version.py", "1.2.3")
    ns = {}
    exec((tmp_path / "pkg" / "_version.py").read_text(), ns)
    assert ns["VERSION"] == ns["__version__"] == "1.2.3"
    for bad in ("../x.py", "/etc/x.py", "pkg/x.txt", "nodir/x.py"):
        with pytest.raises(b.BuildError):
            b.write_version_file(str(tmp_path), bad, "1")


def test_shiv_command():
    cmd = b.shiv_command("/v", "/o/a.pyz", "/s", "/s/requirements.txt", entry_point="a.b:main", compile_pyc=True,
                         pip_args=["--only-binary=:all:"], shiv_args=["--no-modify"])
    assert cmd == ["/v/bin/shiv", "--reproducible", "-p", "/usr/bin/env python3", "-o", "/o/a.pyz", "-e", "a.b:main",
                   "--compressed", "--compile-pyc", "--no-modify", "--disable-pip-version-check", "--no-input",
                   "--only-binary=:all:", "-r", "/s/requirements.txt", "/s"]


@pytest.mark.parametrize("value", ["x", "", None, 0, 315532799])
def test_check_epoch_refuses(value):
    with pytest.raises(b.BuildError):
        b.check_epoch(value)


def test_git_epoch():
    answers = {"log": (0, "1700000000\n", ""), "status": (0, " M pkg/x.py\n", "")}
    assert b.git_epoch("/p", lambda argv, cwd: answers[argv[1]]) == (1700000000, True)
    with pytest.raises(b.BuildError, match="set source_date_epoch"):
        b.git_epoch("/p", lambda argv, cwd: (128, "", "fatal: not a git repository"))


class FakeTools:
    """Stands in for python, venv, pip and shiv: records the calls and writes a pyz from ``self.dists``."""

    def __init__(self, dists):
        self.dists = dists
        self.calls = []
        self.content = b"v1"

    def __call__(self, argv, cwd, env):
        self.calls.append(argv)
        if argv[1:3] == ["-m", "venv"]:
            os.makedirs(os.path.join(argv[3], "bin"))
            tool = os.path.join(argv[3], "bin", "shiv")
            open(tool, "w").close()
            os.chmod(tool, 0o755)
        elif argv[0].endswith("/shiv"):
            assert env["SOURCE_DATE_EPOCH"] == "1700000000" and "--reproducible" in argv
            out = argv[argv.index("-o") + 1]
            make_pyz(out, self.dists)
            with zipfile.ZipFile(out, "a") as zf:
                zf.writestr("content", self.content)
        elif argv[1] == "-c":
            return 0, "/usr 3.11.7\n", ""
        return 0, "", ""


@pytest.fixture
def project(tmp_path):
    proj = tmp_path / "demoapp"
    (proj / "demoapp").mkdir(parents=True)
    (proj / "pyproject.toml").write_text("[project]\nname = 'demoapp'\n")
    (proj / "requirements.txt").write_text("django==5.2.19\n")
    return proj


def build(project, tmp_path, tools, **kw):
    kw.setdefault("source_date_epoch", "1700000000")
    return b.build(str(project), "1.0.0", str(tmp_path / "dist"), str(tmp_path / "bd"), tools,
                   entry_point="demoapp.__main__:main", version_file="demoapp/_version.py", **kw)


def test_build_then_an_identical_rebuild_changes_nothing(project, tmp_path):
    tools = FakeTools([("demoapp", "1.0.0"), ("django", "5.2.19")])
    r = build(project, tmp_path, tools)
    assert r["changed"] and r["venv_created"] and r["path"] == str(tmp_path / "dist" / "demoapp-1.0.0.pyz")
    assert r["distributions"] == ["demoapp==1.0.0", "django==5.2.19"]
    assert [c[-1] for c in tools.calls[1:4]] == [str(tmp_path / "bd" / "venv"), "pip==26.3", "shiv==1.0.8"]
    again = build(project, tmp_path, tools)
    assert not again["changed"] and not again["venv_created"] and again["sha256"] == r["sha256"]
    assert sorted(os.listdir(str(tmp_path / "bd"))) == [".lock", "out", "staging", "venv"]
    assert os.listdir(str(tmp_path / "bd" / "out")) == [] and os.listdir(str(tmp_path / "bd" / "staging")) == []
    tools.content = b"v2"  # the source changed: the file in dist is replaced (publishing is what is immutable)
    third = build(project, tmp_path, tools)
    assert third["changed"] and third["previous_sha256"] == r["sha256"] != third["sha256"]


def test_an_unpinned_distribution_fails_the_build_and_leaves_dist_alone(project, tmp_path):
    tools = FakeTools([("demoapp", "1.0.0"), ("django", "5.2.19"), ("sqlparse", "0.6.1")])
    with pytest.raises(b.BuildError, match="do not pin: sqlparse==0.6.1"):
        build(project, tmp_path, tools)
    assert not (tmp_path / "dist").exists()


def test_check_mode_builds_nothing(project, tmp_path):
    tools = FakeTools([])
    r = build(project, tmp_path, tools, check_mode=True)
    assert r["changed"] and r["sha256"] is None and tools.calls == []


@pytest.mark.parametrize("kw,match", [
    ({"entry_point": None}, "exactly one of entry_point"),
    ({"console_script": "demoapp"}, "exactly one of entry_point"),
    ({"entry_point": "not an entry point"}, "module.path:function"),
    ({"requirements": "missing.txt"}, "does not exist"),
    ({"name": "../x"}, "name="),
])
def test_bad_input(project, tmp_path, kw, match):
    args = dict(entry_point="demoapp.__main__:main", source_date_epoch="1700000000")
    args.update(kw)
    with pytest.raises(b.BuildError, match=match):
        b.build(str(project), "1.0.0", str(tmp_path / "dist"), str(tmp_path / "bd"), FakeTools([]), **args)

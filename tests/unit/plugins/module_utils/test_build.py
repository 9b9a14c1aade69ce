import json
import os
import stat
import subprocess
import sys
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
                   "--progress-bar", "off", "--only-binary=:all:", "-r", "/s/requirements.txt", "/s"]


def test_shiv_command_of_a_site_packages_directory_has_no_pip_arguments():
    """shiv 1.0.8 zips a --site-packages directory in place only when it gets no pip arguments at all (with any,
    it copies the directory and runs pip over the copy)."""
    cmd = b.shiv_command("/v", "/o/a.pyz", None, entry_point="_zipapp_launcher:main", site_packages="/sp",
                         shiv_args=["--no-modify"])
    assert cmd == ["/v/bin/shiv", "--reproducible", "-p", "/usr/bin/env python3", "-o", "/o/a.pyz", "-e",
                   "_zipapp_launcher:main", "--compressed", "--no-modify", "--site-packages", "/sp"]


@pytest.mark.parametrize("value", ["x", "", None, 0, 315532799])
def test_check_epoch_refuses(value):
    with pytest.raises(b.BuildError):
        b.check_epoch(value)


def test_git_epoch():
    answers = {"log": (0, "1700000000\n", ""), "status": (0, " M pkg/x.py\n", "")}
    assert b.git_epoch("/p", lambda argv, cwd: answers[argv[1]]) == (1700000000, True)
    with pytest.raises(b.BuildError, match="set source_date_epoch"):
        b.git_epoch("/p", lambda argv, cwd: (128, "", "fatal: not a git repository"))


def real_probe():
    """What the deploy-time probe says about this interpreter (the unit tests' own CPython)."""
    from ansible_collections.containerless.zipapp.plugins.module_utils._interpreter import probe_command

    out = subprocess.run(probe_command(sys.executable), stdout=subprocess.PIPE, check=True, text=True).stdout
    return json.loads(out)


PROBE = real_probe()


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
        elif argv[1:3] == ["-I", "-S"]:
            return 0, json.dumps(PROBE), ""
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


# ---------------------------------------------------------------------------------------------------
# Projects that are no packages


def touch(path, text=""):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(str(path), "w") as f:
        f.write(text)


def test_layout_auto_takes_a_package_first_then_manage_py_then_the_wsgi_app(tmp_path):
    touch(tmp_path / "p" / "manage.py")
    assert b.resolve_layout(str(tmp_path / "p"), "auto", "app:app") == "django"
    touch(tmp_path / "p" / "pyproject.toml")
    assert b.resolve_layout(str(tmp_path / "p"), "auto", None) == "package"
    touch(tmp_path / "f" / "app.py")
    assert b.resolve_layout(str(tmp_path / "f"), "auto", "app:app") == "wsgi"
    assert b.resolve_layout(str(tmp_path / "f"), "django", None) == "django"
    with pytest.raises(b.BuildError, match="zipapp_publish_wsgi_app is not set.*zipapp_publish_layout"):
        b.resolve_layout(str(tmp_path / "f"), "auto", None)


def test_the_settings_module_is_read_from_manage_py_as_startproject_writes_it():
    stock = ('def main():\n    """Run administrative tasks."""\n'
             "    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n")
    assert b.settings_from_manage(stock) == "mysite.settings"
    assert b.settings_from_manage('os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conf.settings.prod")') == \
        "conf.settings.prod"
    assert b.settings_from_manage("import sys\n") is None


def test_project_files_leave_out_what_must_not_ship(tmp_path):
    for rel in ("manage.py", "mysite/settings.py", "templates/home.html", "static/site.css",
                "static/vendor/dist/lib.js",  # a dist/ below the top ships (JavaScript packages have one)
                "db.sqlite3", ".env", ".env.production", ".gitignore", ".git/HEAD", "media/upload.png",
                "dist/old.pyz", "node_modules/x/index.js", "polls/__pycache__/views.cpython-311.pyc",
                "venv2/pyvenv.cfg", "venv2/lib/x.py", "docs/index.md", "logs/a.log", "polls/views.py"):
        touch(tmp_path / rel)
    assert b.project_files(str(tmp_path), ["docs/", "*.log"]) == [
        "manage.py", "mysite/settings.py", "polls/views.py", "static/site.css", "static/vendor/dist/lib.js",
        "templates/home.html"]


def make_site_packages(root, dists):
    """What pip --target leaves: packages, a bin/ of console scripts and each distribution's RECORD."""
    for dist, tops in dists.items():
        info = os.path.join(root, "%s-1.0.dist-info" % dist)
        lines = []
        for top in tops:
            touch(os.path.join(root, top, "__init__.py") if "." not in top else os.path.join(root, top))
            lines.append("%s/__init__.py,sha256=x,1" % top if "." not in top else "%s,sha256=x,1" % top)
        touch(os.path.join(info, "RECORD"), "\n".join(lines + ["../../bin/x,,"]) + "\n")


def test_mirror_project_copies_into_site_packages_and_refuses_a_name_pip_installed(tmp_path):
    sp = tmp_path / "sp"
    make_site_packages(str(sp), {"Django": ["django"], "whitenoise": ["whitenoise"], "six": ["six.py"]})
    project = tmp_path / "mysite"
    touch(project / "manage.py")
    touch(project / "mysite" / "settings.py")
    touch(project / "templates" / "home.html")
    os.chmod(str(project / "manage.py"), 0o700)
    assert b.mirror_project(str(project), str(sp)) == ["manage.py", "mysite", "templates"]
    assert stat.S_IMODE(os.stat(str(sp / "manage.py")).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(str(sp / "templates" / "home.html")).st_mode) == 0o644
    touch(project / "whitenoise" / "__init__.py")
    touch(project / "six.py")
    fresh = tmp_path / "sp2"
    make_site_packages(str(fresh), {"Django": ["django"], "whitenoise": ["whitenoise"], "six": ["six.py"]})
    with pytest.raises(b.BuildError) as e:
        b.mirror_project(str(project), str(fresh))
    assert "six.py (installed by six); whitenoise/ (installed by whitenoise)" in str(e.value)
    assert "zipapp_publish_exclude" in str(e.value)


def test_missing_distributions_and_the_sdist_only_question():
    output = ("Collecting gunicorn==27.0.1\nERROR: Could not find a version that satisfies the requirement "
              "docopt==0.6.2 (from versions: none)\nERROR: No matching distribution found for docopt==0.6.2\n")
    assert b.missing_distributions(output) == ["docopt==0.6.2"]
    asked = []

    def pip(argv, cwd, env):
        asked.append(argv)
        return 1, ("  Skipping link: No sources permitted for docopt: https://files.example/docopt-0.6.1.tar.gz "
                   "(from https://pypi.org/simple/docopt/)\n  Skipping link: No sources permitted for docopt: "
                   "https://files.example/docopt-0.6.2.tar.gz (from https://pypi.org/simple/docopt/)\n"), ""

    assert b.sdist_only(pip, "/v/bin/python", "docopt==0.6.2", ["--only-binary=:all:"], {})
    assert asked[0][:9] == ["/v/bin/python", "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed",
                            "-vv", "--disable-pip-version-check"]
    assert asked[0][-2:] == ["--only-binary=:all:", "docopt==0.6.2"]
    assert not b.sdist_only(pip, "/v/bin/python", "docopt==0.7.0", ["--only-binary=:all:"], {})
    assert not b.sdist_only(pip, "/v/bin/python", "other==0.6.2", ["--only-binary=:all:"], {})


def test_a_failed_pip_install_names_the_interpreter_the_sdist_and_the_variable():
    output = "\n".join(["Collecting x%d==1" % i for i in range(50)] + [
        "WARNING: Location 'file:///opt/x/simple/docopt/' is ignored: it is neither a file nor a directory.",
        "ERROR: No matching distribution found for docopt==0.6.2"])

    def pip(argv, cwd, env):
        return 1, "Skipping link: No sources permitted for docopt: https://f/docopt-0.6.2.tar.gz\n", ""

    msg = b.pip_failure("pip install", 1, output, "/usr/bin/python3 (CPython 3.11.2)", pip, "/v/bin/python",
                        ["--only-binary=:all:"], {})
    assert msg.startswith("pip install failed (rc=1) with the build interpreter /usr/bin/python3 (CPython 3.11.2); "
                          "docopt==0.6.2 is on the index only as a source distribution (sdist)")
    # as YAML a user can paste: a plain :all: in a flow sequence does not parse
    assert 'zipapp_publish_pip_args: ["--only-binary=:all:", --no-binary, docopt]' in msg and "--find-links" in msg
    assert msg.endswith("Collecting x49==1\nERROR: No matching distribution found for docopt==0.6.2")
    assert "Collecting x20==1" not in msg and "WARNING: Location" not in msg  # the last 30 lines, without noise
    # without --only-binary nothing is asked again
    msg = b.pip_failure("pip install", 1, output, "py", None, "/v/bin/python", [], {})
    assert "sdist" not in msg


def test_static_root_must_be_a_directory_of_the_project(tmp_path):
    sp = str(tmp_path / "sp")
    os.makedirs(sp)
    assert b.static_root_in(sp, os.path.join(sp, "staticfiles"), {}) == os.path.join(sp, "staticfiles")
    for outside in ("/var/www/static", sp, os.path.join(sp, "..", "static")):
        with pytest.raises(b.BuildError, match="STATIC_ROOT=.* is outside the project.*zipapp_publish_collectstatic"):
            b.static_root_in(sp, outside, {})
    with pytest.raises(b.BuildError, match="which Django installed"):
        b.static_root_in(sp, os.path.join(sp, "django", "static"), {"django": "Django"})


def test_the_server_must_be_pinned():
    b.check_server_pinned({"gunicorn": "27.0.1"}, "gunicorn", "/p/requirements.txt")
    with pytest.raises(b.BuildError, match=r"the server pyuwsgi \(zipapp_publish_server\) is not pinned in "
                                           r"/p/requirements.txt \(zipapp_publish_requirements\): add pyuwsgi=="):
        b.check_server_pinned({"gunicorn": "27.0.1"}, "pyuwsgi", "/p/requirements.txt")


# ---------------------------------------------------------------------------------------------------
# The hosts' CPython


def wheel_pyz(path, dists):
    """A shiv-like zipapp whose distributions carry these WHEEL tags and Requires-Python."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("environment.json", json.dumps({"build_id": "x", "shiv_version": "1.0.8"}))
        zf.writestr("_bootstrap/__init__.py", "")
        for name, version, tag, requires in dists:
            info = "site-packages/%s-%s.dist-info/" % (name, version)
            zf.writestr(info + "METADATA", "Name: %s\nVersion: %s\n%s" % (
                name, version, "Requires-Python: %s\n" % requires if requires else ""))
            zf.writestr(info + "WHEEL", "Wheel-Version: 1.0\nTag: %s\n" % tag)


@pytest.mark.skipif(PROBE.get("implementation") != "cpython" or not PROBE.get("libc"), reason="needs CPython on glibc")
def test_a_compiled_wheel_of_another_cpython_is_refused_for_that_target(tmp_path):
    pyz = str(tmp_path / "a.pyz")
    minor = "3.%d" % PROBE["version_info"][1]
    nodot = "3%d" % PROBE["version_info"][1]
    wheel_pyz(pyz, [("Django", "5.2.20", "py3-none-any", ">=3.10"),
                    ("orjson", "3.10.18", "cp%s-cp%s-manylinux_2_17_x86_64" % (nodot, nodot), ">=3.9"),
                    ("newlib", "1.0", "py3-none-any", ">=3.12")])
    other = "3.13" if minor != "3.13" else "3.12"
    problems = b.check_target_pythons(pyz, PROBE, [minor, other])
    targets = dict(problems)
    assert set(targets) == {other} or (minor == "3.11" and set(targets) == {minor, other})
    assert any(p.startswith("orjson 3.10.18 has only cp%s-cp%s-" % (nodot, nodot)) for p in targets[other])
    msg = b.target_python_message("a-1.0.pyz", problems, "/usr/bin/python3 (CPython %s.0)" % minor, [minor, other])
    assert msg.startswith("a-1.0.pyz cannot run on the hosts' CPython ")
    assert "(zipapp_publish_target_python)" in msg and "zipapp_publish_python" in msg
    assert "publish one build per CPython of the fleet" in msg
    one = b.target_python_message("a-1.0.pyz", problems, "py", [other])
    assert "zipapp_publish_python: python%s" % other in one


def test_a_minor_version_is_its_oldest_patch_release_for_requires_python(tmp_path):
    pyz = str(tmp_path / "a.pyz")
    wheel_pyz(pyz, [("patchy", "1.0", "py3-none-any", ">=3.11.4")])
    problems = dict(b.check_target_pythons(pyz, PROBE, ["3.11", "3.11.4", "3.13"]))
    assert list(problems) == ["3.11"]
    assert problems["3.11"] == ["patchy 1.0: Requires-Python >=3.11.4 excludes CPython 3.11.0"]


def test_target_probe_is_the_build_probe_as_another_cpython():
    probe = dict(PROBE, implementation="cpython", version_info=[3, 11, 2, "final", 0], version="3.11.2",
                 py_version_nodot="311", soabi="cpython-311-x86_64-linux-gnu",
                 ext_suffix=".cpython-311-x86_64-linux-gnu.so",
                 extension_suffixes=[".cpython-311-x86_64-linux-gnu.so", ".abi3.so", ".so"])
    t = b.target_probe(probe, "3.13")
    assert t["version_info"][:3] == [3, 13, 0] and t["py_version_nodot"] == "313"
    assert t["ext_suffix"] == ".cpython-313-x86_64-linux-gnu.so" and t["soabi"] == "cpython-313-x86_64-linux-gnu"
    assert t["extension_suffixes"][0] == ".cpython-313-x86_64-linux-gnu.so"
    with pytest.raises(b.BuildError, match="checks CPython wheels"):
        b.target_probe(dict(probe, implementation="pypy"), "3.13")


# ---------------------------------------------------------------------------------------------------
# A Django project through build(), with stand-ins for pip, Django and shiv


class FakeDjangoTools(FakeTools):
    """pip --target installs ``dists``; loading the settings answers STATIC_ROOT; collectstatic collects."""

    def __init__(self, dists, static_root="staticfiles"):
        FakeTools.__init__(self, [])
        self.pip_dists = dists
        self.static_root = static_root

    def __call__(self, argv, cwd, env):
        if argv[1:5] == ["-m", "pip", "install", "--target"]:
            self.calls.append(argv)
            make_site_packages(argv[5], dict((d, [d.lower()]) for d in self.pip_dists))
            return 0, "Successfully installed\n", ""
        if argv[1:3] == ["-S", "-B"]:
            self.calls.append(argv)
            assert env["DJANGO_SETTINGS_MODULE"] == "mysite.settings" and env["DJANGO_SECRET_KEY"] == "build-only"
            command = argv[6:]  # the management command of the MANAGE script, none for the settings probe
            if command == ["collectstatic", "--noinput"]:
                touch(os.path.join(argv[5], self.static_root, "site.0123456789ab.css"))
                touch(os.path.join(argv[5], self.static_root, "staticfiles.json"), "{}")
                return 0, "2 static files copied to '%s'.\n" % self.static_root, ""
            if command == ["compress", "--force"]:
                touch(os.path.join(argv[5], self.static_root, "CACHE", "manifest.json"), "{}")
                return 0, "Compressing... done\nCompressed 3 block(s) from 40 template(s) for 1 context(s).\n", ""
            if command == ["broken"]:
                return 1, "", "CommandError: Unknown command: 'broken'\n"
            root = os.path.join(argv[5], self.static_root) if self.static_root else None
            return 0, json.dumps({"static_root": root}) + "\n", ""
        if argv[0].endswith("/shiv"):
            self.calls.append(argv)
            sp = argv[argv.index("--site-packages") + 1]
            self.zipped = sorted(os.path.relpath(os.path.join(r, f), sp) for r, _d, fs in os.walk(sp) for f in fs)
            with open(os.path.join(sp, b.LAUNCHER_CONFIG)) as f:
                self.config = json.load(f)
            make_pyz(argv[argv.index("-o") + 1], [(d, "1.0") for d in self.pip_dists], local=())
            return 0, "", ""
        return FakeTools.__call__(self, argv, cwd, env)


@pytest.fixture
def django_project(tmp_path):
    proj = tmp_path / "mysite"
    touch(proj / "manage.py", "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n")
    touch(proj / "mysite" / "__init__.py")
    touch(proj / "mysite" / "settings.py")
    touch(proj / "templates" / "home.html")
    touch(proj / "static" / "site.css")
    touch(proj / "staticfiles" / "stale.css", "collected in development")
    touch(proj / "requirements.txt", "Django==1.0\ngunicorn==1.0\nwhitenoise==1.0\n")
    touch(proj / "db.sqlite3")
    launcher = tmp_path / "zipapp_launcher.py"
    touch(launcher, "def main():\n    pass\n")
    return proj, str(launcher)


def build_django(project, launcher, tmp_path, tools, **kw):
    kw.setdefault("source_date_epoch", "1700000000")
    return b.build(str(project), "2.0.0", str(tmp_path / "dist"), str(tmp_path / "bd"), tools, launcher=launcher,
                   django_env={"DJANGO_SECRET_KEY": "build-only"}, **kw)


def test_a_django_project_is_mirrored_collected_and_zipped_with_the_launcher(django_project, tmp_path):
    project, launcher = django_project
    tools = FakeDjangoTools(["Django", "gunicorn", "whitenoise"])
    r = build_django(project, launcher, tmp_path, tools, place_artifact=False)
    assert r["layout"] == "django" and r["django_settings"] == "mysite.settings"
    assert r["changed"] and r["path"] == str(tmp_path / "bd" / "out" / "mysite-2.0.0.pyz")
    assert r["dest_path"] == str(tmp_path / "dist" / "mysite-2.0.0.pyz") and not (tmp_path / "dist").exists()
    assert os.path.isfile(r["path"])  # kept for the publish role to place after publishing
    assert r["static_root"] == "staticfiles" and r["collectstatic"] == "2 static files copied to 'staticfiles'."
    assert tools.config == {"layout": "django", "name": "mysite", "server": "gunicorn", "settings": "mysite.settings",
                            "version": "2.0.0"}
    assert "_zipapp_launcher.py" in tools.zipped and "templates/home.html" in tools.zipped
    assert "staticfiles/site.0123456789ab.css" in tools.zipped
    assert "staticfiles/stale.css" not in tools.zipped and "db.sqlite3" not in tools.zipped
    shiv = [c for c in tools.calls if c[0].endswith("/shiv")][0]
    assert shiv[shiv.index("-e") + 1] == "_zipapp_launcher:main" and "-r" not in shiv
    assert not os.path.exists(str(tmp_path / "bd" / "staging" / "mysite"))


def test_collectstatic_false_ships_the_project_as_it_is(django_project, tmp_path):
    project, launcher = django_project
    tools = FakeDjangoTools(["Django", "gunicorn"])
    r = build_django(project, launcher, tmp_path, tools, collectstatic=False)
    assert r["collectstatic"] is None and "staticfiles/stale.css" in tools.zipped
    assert not any("collectstatic" in c[6:] for c in tools.calls if c[1:3] == ["-S", "-B"])


def test_build_commands_run_after_collectstatic_and_what_they_write_ships(django_project, tmp_path):
    """zipapp_publish_build_commands: django-compressor's offline manifest, made at build time, is in the zipapp."""
    project, launcher = django_project
    tools = FakeDjangoTools(["Django", "gunicorn"])
    r = build_django(project, launcher, tmp_path, tools, build_commands=[["compress", "--force"]])
    commands = [c[6:] for c in tools.calls if c[1:3] == ["-S", "-B"] and c[6:]]
    assert commands == [["collectstatic", "--noinput"], ["compress", "--force"]]
    assert r["build_commands"] == ["Compressed 3 block(s) from 40 template(s) for 1 context(s)."]
    assert "staticfiles/CACHE/manifest.json" in tools.zipped


def test_a_failed_build_command_names_itself_and_its_variable(django_project, tmp_path):
    project, launcher = django_project
    tools = FakeDjangoTools(["Django", "gunicorn"])
    with pytest.raises(b.BuildError, match=r"manage broken \(zipapp_publish_build_commands\[1\]\) failed at build "
                                           r"time \(rc=1\): .*Unknown command: 'broken'"):
        build_django(project, launcher, tmp_path, tools, build_commands=[["compress", "--force"], ["broken"]])
    assert not (tmp_path / "dist").exists()


def test_build_commands_need_a_django_project(tmp_path):
    proj = tmp_path / "flaskapp"
    touch(proj / "app.py")
    touch(proj / "requirements.txt", "Flask==3.1.3\ngunicorn==27.0.1\n")
    tools = FakeTools([])
    with pytest.raises(b.BuildError, match="zipapp_publish_build_commands are management commands of a Django "
                                           "project: the wsgi layout has none"):
        b.build(str(proj), "1.0", str(tmp_path / "d"), str(tmp_path / "bd"), tools, wsgi_app="app:app",
                source_date_epoch="1700000000", build_commands=[["compress"]])
    assert tools.calls == []


@pytest.mark.parametrize("kw,requirements,match", [
    ({}, "Django==1.0\n", r"the server gunicorn \(zipapp_publish_server\) is not pinned"),
    ({}, "gunicorn==1.0\n", r"Django is not pinned in .*requirements.txt \(zipapp_publish_requirements\)"),
    ({"entry_point": "mysite.x:main"}, None, "zipapp_publish_entry_point and zipapp_publish_console_script are for"),
    ({"django_settings": "mysite.nothere"}, None, r"the Django settings mysite.nothere \(zipapp_publish_django_s"),
    ({"requirements": "requirements/prod.txt"}, None, "is relative to zipapp_publish_project"),
])
def test_a_django_project_is_refused_before_anything_is_built(django_project, tmp_path, kw, requirements, match):
    project, launcher = django_project
    if requirements:
        touch(project / "requirements.txt", requirements)
    tools = FakeDjangoTools(["Django"])
    with pytest.raises(b.BuildError, match=match):
        build_django(project, launcher, tmp_path, tools, **kw)
    assert tools.calls == []


def test_a_static_root_outside_the_project_fails_the_build(django_project, tmp_path):
    project, launcher = django_project
    tools = FakeDjangoTools(["Django", "gunicorn"], static_root="/var/www/static")
    tools.static_root = "../../outside"
    with pytest.raises(b.BuildError, match="STATIC_ROOT=.*outside is outside the project"):
        build_django(project, launcher, tmp_path, tools)
    assert not (tmp_path / "dist").exists() and os.listdir(str(tmp_path / "bd" / "out")) == []


def test_a_wsgi_app_needs_its_module_in_the_project(tmp_path):
    proj = tmp_path / "flaskapp"
    touch(proj / "app.py")
    touch(proj / "requirements.txt", "Flask==3.1.3\ngunicorn==27.0.1\n")
    with pytest.raises(b.BuildError, match="zipapp_publish_wsgi_app=web:app: web is not a module"):
        b.build(str(proj), "1.0", str(tmp_path / "d"), str(tmp_path / "bd"), FakeTools([]), wsgi_app="web:app",
                source_date_epoch="1700000000")
    with pytest.raises(b.BuildError, match="must be module:attribute"):
        b.build(str(proj), "1.0", str(tmp_path / "d"), str(tmp_path / "bd"), FakeTools([]), wsgi_app="app",
                source_date_epoch="1700000000")

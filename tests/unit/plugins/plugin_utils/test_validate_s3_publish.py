"""The preflight's checks of s3:// deploy sources, the zipapp_s3_* settings and the publish role."""

import os

import pytest

from ansible_collections.containerless.zipapp.plugins.plugin_utils import _checks, _validate_deploy, _validate_publish

DEPLOY = _validate_deploy.ENTRY_POINTS["deploy"]
PUBLISH = _validate_publish.ENTRY_POINTS["publish"]


def deploy_errors(**values):
    return DEPLOY.errors(values)


def publish_errors(**values):
    base = dict(zipapp_publish_version="1.0.0", zipapp_publish_to=["/srv/a"], zipapp_publish_project="/p",
                zipapp_publish_entry_point="demoapp.__main__:main")
    base.update(values)
    return PUBLISH.errors(base)


def test_s3_urls_are_deploy_sources():
    assert deploy_errors(zipapp_url="s3://artifacts/demoapp/demoapp-1.0.pyz",
                         zipapp_checksum="sha256:s3://artifacts/demoapp/SHA256SUMS") == []


@pytest.mark.parametrize("url,match", [
    ("s3://artifacts", "must name an object"),
    ("s3://artifacts/demoapp/", "must name an object"),
    ("s3://ak:sk@artifacts/x.pyz", "must not carry credentials"),
    ("s3://a/x.pyz", "not a valid bucket name"),
])
def test_bad_s3_sources(url, match):
    errors = deploy_errors(zipapp_url=url)
    assert len(errors) == 1 and errors[0].startswith("zipapp_url: ") and match in errors[0]
    assert "sk@" not in errors[0]


def test_s3_stays_out_of_the_python_role_and_other_url_checks():
    assert _checks.check_url("s3://artifacts/x.pyz") != []


def test_s3_settings_of_the_deploy_role():
    assert deploy_errors(zipapp_s3_endpoint_url="http://127.0.0.1:9000", zipapp_s3_access_key="AK",
                         zipapp_s3_secret_key="SK", zipapp_s3_region="") == []
    errors = deploy_errors(zipapp_s3_access_key="AK", zipapp_s3_secret_key="")
    assert errors == ["zipapp_s3_access_key and zipapp_s3_secret_key go together: set both or neither"]
    errors = deploy_errors(zipapp_s3_secret_key=12345)
    assert errors == ["zipapp_s3_secret_key must be a quoted string, got a int (value hidden)"]
    assert deploy_errors(zipapp_s3_profile="ci", zipapp_s3_access_key="AK", zipapp_s3_secret_key="SK") == [
        "zipapp_s3_profile and zipapp_s3_access_key exclude each other: use a profile or keys"]
    assert deploy_errors(zipapp_s3_endpoint_url="minio:9000") == [
        "zipapp_s3_endpoint_url='minio:9000' must be an http:// or https:// URL"]


def test_a_good_publish():
    assert publish_errors() == []
    assert publish_errors(zipapp_publish_to=["file:///srv/a", "https://nexus/raw/demoapp/", "s3://artifacts/demo/",
                                             "s3://artifacts"]) == []
    assert publish_errors(zipapp_publish_project="", zipapp_publish_artifact="dist/x.pyz", zipapp_publish_name="x") == []


@pytest.mark.parametrize("values,message", [
    ({"zipapp_publish_version": 1.1}, "zipapp_publish_version must be a quoted string"),
    ({"zipapp_publish_to": "/srv/a"}, "zipapp_publish_to must be a non-empty list"),
    ({"zipapp_publish_to": []}, "zipapp_publish_to must be a non-empty list"),
    ({"zipapp_publish_to": ["relative"]}, "zipapp_publish_to[0]='relative' must be an absolute directory"),
    ({"zipapp_publish_to": ["https://u:pw@nexus/raw/"]}, "zipapp_publish_to[0] must not carry credentials"),
    ({"zipapp_publish_to": ["ftp://x/y"]}, "zipapp_publish_to[0]='ftp://x/y' must be a directory"),
    ({"zipapp_publish_to": ["s3://x/y"]}, "zipapp_publish_to[0]: "),
    ({"zipapp_publish_project": "", "zipapp_publish_artifact": ""}, "set one of zipapp_publish_project"),
    ({"zipapp_publish_artifact": "x.pyz"}, "set one of zipapp_publish_project"),
    ({"zipapp_publish_project": "", "zipapp_publish_artifact": "x.pyz"}, "zipapp_publish_artifact needs"),
    ({"zipapp_publish_console_script": "demoapp"}, "set one of zipapp_publish_entry_point"),
    ({"zipapp_publish_entry_point": "demoapp"}, "must be module.path:function"),
    ({"zipapp_publish_version_file": "../v.py"}, "zipapp_publish_version_file='../v.py'"),
    ({"zipapp_publish_source_date_epoch": 12}, "zipapp_publish_source_date_epoch must be at least"),
    ({"zipapp_publish_source_date_epoch": "soon"}, "zipapp_publish_source_date_epoch must be an integer"),
    ({"zipapp_publish_mode": 420}, "zipapp_publish_mode must be a quoted octal mode"),
    ({"zipapp_publish_headers": {"Authorization": "x\ny"}}, "zipapp_publish_headers.Authorization must be a string"),
    ({"zipapp_publish_pip_args": "--no-index"}, "zipapp_publish_pip_args must be a list"),
    ({"zipapp_publish_s3_secret_key": "SK"}, "zipapp_publish_s3_access_key and zipapp_publish_s3_secret_key go"),
])
def test_bad_publish_input_names_the_variable(values, message):
    errors = publish_errors(**values)
    assert any(message in e for e in errors), errors
    assert not any("pw@" in e or "x\ny" in e for e in errors)


def test_an_empty_source_date_epoch_takes_git():
    assert publish_errors(zipapp_publish_source_date_epoch="") == []
    assert publish_errors(zipapp_publish_source_date_epoch="1700000000") == []


@pytest.mark.parametrize("values,message", [
    ({"zipapp_publish_layout": "flask"}, "zipapp_publish_layout must be one of auto, package, django, wsgi"),
    ({"zipapp_publish_server": "uwsgi"}, "zipapp_publish_server must be one of gunicorn, pyuwsgi"),
    ({"zipapp_publish_collectstatic": "yes"}, "zipapp_publish_collectstatic must be true or false"),
    ({"zipapp_publish_django_settings": "my-site.settings"}, "zipapp_publish_django_settings='my-site.settings'"),
    ({"zipapp_publish_wsgi_app": "app"}, "zipapp_publish_wsgi_app='app' must be module:attribute"),
    ({"zipapp_publish_exclude": "docs/"}, "zipapp_publish_exclude must be a list"),
    ({"zipapp_publish_target_python": 3.1}, "zipapp_publish_target_python must be a quoted CPython version"),
    ({"zipapp_publish_target_python": ["3.11", "3"]}, "zipapp_publish_target_python[1] must be a quoted CPython"),
    ({"zipapp_publish_build_env": {"1X": "a"}}, "zipapp_publish_build_env: '1X' is not a valid environment variable"),
])
def test_bad_input_of_a_project_that_is_no_package(values, message):
    errors = publish_errors(**values)
    assert any(message in e for e in errors), errors


def test_the_build_env_is_a_secret():
    errors = publish_errors(zipapp_publish_build_env={"DJANGO_SECRET_KEY": 12345678})
    assert errors == ["zipapp_publish_build_env.DJANGO_SECRET_KEY must be a quoted string (value hidden)"]


def test_target_python_takes_a_version_or_a_list():
    assert publish_errors(zipapp_publish_target_python="3.13") == []
    assert publish_errors(zipapp_publish_target_python=["3.11", "3.13.5"]) == []
    assert publish_errors(zipapp_publish_target_python=[]) == []


def project(tmp_path, *files):
    root = tmp_path / "mysite"
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    return str(root)


def test_the_layout_of_the_project_decides_what_it_needs(tmp_path, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    django = project(tmp_path, "manage.py", "requirements.txt")
    assert publish_errors(zipapp_publish_project=django, zipapp_publish_entry_point="",
                          zipapp_publish_requirements="requirements.txt") == []
    assert publish_errors(zipapp_publish_project=django, zipapp_publish_requirements="requirements.txt") == [
        "zipapp_publish_entry_point and zipapp_publish_console_script are for packages: the django layout of %s runs "
        "the collection's launcher (serve, manage, version)" % django]
    assert "zipapp_publish_requirements must name" in publish_errors(
        zipapp_publish_project=django, zipapp_publish_entry_point="", zipapp_publish_requirements="")[0]
    plain = str(tmp_path / "plain")
    (tmp_path / "plain").mkdir()
    errors = publish_errors(zipapp_publish_project=plain, zipapp_publish_entry_point="")
    assert errors and "no manage.py (a Django project) and zipapp_publish_wsgi_app is not set" in errors[0]
    assert publish_errors(zipapp_publish_project=plain, zipapp_publish_entry_point="",
                          zipapp_publish_wsgi_app="app:app", zipapp_publish_requirements="") == [
        "zipapp_publish_requirements must name the pinned requirements of %s (the server, zipapp_publish_server, must "
        "be pinned there)" % plain]
    package = project(tmp_path, "pyproject.toml", "requirements.txt")
    os.rename(package, str(tmp_path / "pkg"))
    assert "set one of zipapp_publish_entry_point" in publish_errors(
        zipapp_publish_project=str(tmp_path / "pkg"), zipapp_publish_entry_point="",
        zipapp_publish_requirements="requirements.txt")[0]


def test_a_requirements_path_given_relative_to_the_current_directory_is_explained(tmp_path, monkeypatch):
    project(tmp_path, "manage.py", "requirements.txt")
    monkeypatch.chdir(str(tmp_path))
    errors = publish_errors(zipapp_publish_project="mysite", zipapp_publish_entry_point="",
                            zipapp_publish_requirements="mysite/requirements.txt")
    assert errors == [
        "zipapp_publish_requirements=mysite/requirements.txt is relative to zipapp_publish_project (mysite), and %s "
        "does not exist: mysite/requirements.txt exists relative to the current directory, so give it relative to "
        "the project, or absolute (%s)" % (tmp_path / "mysite" / "mysite" / "requirements.txt",
                                           tmp_path / "mysite" / "requirements.txt")]


def test_build_commands_are_lists_of_arguments_after_manage():
    assert publish_errors(zipapp_publish_build_commands=[["compress", "--force"], ["compilemessages"]]) == []
    assert publish_errors(zipapp_publish_build_commands="compress") == [
        "zipapp_publish_build_commands must be a list of commands, each a list of arguments after manage, "
        "e.g. [[compress]], got str 'compress'"]
    assert publish_errors(zipapp_publish_build_commands=[[], "compress"]) == [
        "zipapp_publish_build_commands[0] must be a non-empty list of arguments after manage, e.g. [compress], got "
        "list []",
        "zipapp_publish_build_commands[1] must be a non-empty list of arguments after manage, e.g. [compress], got "
        "str 'compress'"]

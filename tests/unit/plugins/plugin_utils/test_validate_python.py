"""The python role's checks (zipapp_validate checks=python), on raw values as the action sees them."""

import pytest

from ansible_collections.containerless.zipapp.plugins.plugin_utils._validate_python import ENTRY_POINTS

PYTHON = ENTRY_POINTS["python"]
SUMS = "sha256:https://mirror.example.com/python/SHA256SUMS"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ci@example"


def errors(**values):
    return PYTHON.errors(values)


def standalone(**values):
    base = dict(zipapp_python_source="standalone", zipapp_python_version="3.13.5",
                zipapp_python_prefix="/opt/python", zipapp_python_standalone_release="20250723",
                zipapp_python_standalone_triple="x86_64-unknown-linux-gnu",
                zipapp_python_standalone_url="https://mirror.example.com/python/cpython.tar.gz",
                zipapp_python_standalone_checksum=SUMS, zipapp_python_download_timeout=60,
                zipapp_python_download_headers={}, zipapp_python_signing_keys=[], zipapp_python_signature="",
                zipapp_python_signature_namespace="file", zipapp_python_require_signature=False)
    base.update(values)
    return PYTHON.errors(base)


def test_the_defaults_pass():
    assert errors(zipapp_python_source="system", zipapp_python_version="",
                  zipapp_python_check_imports=["ssl", "xml.etree"], zipapp_python_system_packages=["python3-psycopg2"],
                  zipapp_python_controller_cache="~/.cache/containerless.zipapp") == []
    assert standalone() == []


def test_an_unquoted_version_is_refused_whatever_the_source():
    assert errors(zipapp_python_source="standalone", zipapp_python_version=3.1)[0].startswith(
        "zipapp_python_version must be a quoted string")


@pytest.mark.parametrize("source,version,ok", [
    ("system", "3.11", True), ("system", "", True), ("system", "3.11.2", False), ("system", "3", False),
    ("standalone", "3.13.5", True), ("standalone", "3.14.0rc1", True), ("standalone", "3.13", False),
])
def test_the_version_form_depends_on_the_source(source, version, ok):
    check = standalone if source == "standalone" else errors
    found = check(zipapp_python_source=source, zipapp_python_version=version)
    assert (found == []) == ok, found
    if not ok:
        assert "with zipapp_python_source=%s" % source in found[0]


def test_lists_of_names():
    assert errors(zipapp_python_check_imports="ssl")[0].startswith(
        "zipapp_python_check_imports must be a list of module names such as ssl or xml.etree, got ")
    assert errors(zipapp_python_check_imports=["ssl", "no-dash"])[0].startswith("zipapp_python_check_imports")
    assert errors(zipapp_python_system_packages=["python3 -psycopg"])[0].startswith("zipapp_python_system_packages")


def test_standalone_variables_are_checked_only_for_standalone():
    assert errors(zipapp_python_source="system", zipapp_python_standalone_checksum="") == []
    found = standalone(zipapp_python_standalone_checksum="")
    assert found and found[0].startswith("zipapp_python_standalone_checksum must be set")
    assert standalone(zipapp_python_prefix="/opt/../python")[0].startswith("zipapp_python_prefix must be")
    assert standalone(zipapp_python_download_timeout=0)[0].startswith("zipapp_python_download_timeout")
    assert standalone(zipapp_python_standalone_triple="x86_64")[0].startswith("zipapp_python_standalone_triple")


def test_credentials_never_show():
    found = standalone(zipapp_python_standalone_url="https://user:secret@mirror.example.com/python/x.tar.gz")
    assert found and "secret" not in found[0] and "***@" in found[0]
    found = standalone(zipapp_python_download_headers={"Authorization": ["Bearer", "secret"]})
    assert found and "secret" not in " ".join(found)


def test_signature_together():
    found = standalone(zipapp_python_require_signature=True)
    assert found == ["zipapp_python_require_signature is true but zipapp_python_signing_keys is empty: list the "
                     "trusted public keys"]
    found = standalone(zipapp_python_require_signature=True, zipapp_python_signing_keys=[KEY],
                       zipapp_python_standalone_checksum="sha256:" + "a" * 64)
    assert len(found) == 1 and found[0].startswith("zipapp_python_standalone_checksum is an inline sha256")
    assert standalone(zipapp_python_signing_keys=["not a key"])[0].startswith("zipapp_python_signing_keys[0]")

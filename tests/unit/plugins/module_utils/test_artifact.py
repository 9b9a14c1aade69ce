import hashlib
import os
import sys
import threading

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _artifact as a

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, TESTS)
import artifact_server  # noqa: E402  (the real loopback server of the integration tests)

PAYLOAD = os.urandom(300 * 1024)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("artifacts")
    (d / "app-1.0.pyz").write_bytes(PAYLOAD)
    (d / "SHA256SUMS").write_text("%s  app-1.0.pyz\n%s  other.pyz\n" % (SHA, "0" * 64))
    artifact_server.Handler.directory = str(d)
    srv = artifact_server.Server(("127.0.0.1", 0), artifact_server.Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()


def test_parse_checksum():
    assert a.parse_checksum("sha256:" + "A" * 64) == ("a" * 64, None)
    assert a.parse_checksum("sha256:https://x/SHA256SUMS") == (None, "https://x/SHA256SUMS")
    for bad in ("md5:abc", "sha256:abc", "", None):
        with pytest.raises(a.ArtifactError):
            a.parse_checksum(bad)


@pytest.mark.parametrize("line", [
    "%s  app.pyz", "%s *app.pyz", "%s  ./app.pyz", "SHA256 (app.pyz) = %s",
])
def test_sums_lookup_formats(line):
    text = "# comment\n" + (line % ("b" * 64)) + "\n" + "c" * 64 + "  other.pyz\n"
    assert a.sums_lookup(text, "app.pyz") == "b" * 64


def test_sums_lookup_does_not_match_another_directory_or_a_missing_name():
    with pytest.raises(a.ArtifactError, match="has no line for 'app.pyz'"):
        a.sums_lookup("%s  dist/app.pyz\n" % ("b" * 64), "app.pyz")


def test_sums_lookup_refuses_conflicting_lines():
    with pytest.raises(a.ArtifactError, match="conflicting"):
        a.sums_lookup("%s  app.pyz\n%s  app.pyz\n" % ("b" * 64, "c" * 64), "app.pyz")


def test_url_file_name():
    assert a.url_file_name("https://x/a/b/demo%2B1.pyz?x=1") == "demo+1.pyz"


def test_ensure_downloads_verifies_and_places(server, tmp_path):
    dest = tmp_path / "app" / "releases" / "1.0" / "app.pyz"
    res = a.ensure(server + "/app-1.0.pyz", str(dest), "sha256:%s/SHA256SUMS" % server)
    assert res["changed"] and res["sha256"] == SHA and res["size"] == len(PAYLOAD)
    assert dest.read_bytes() == PAYLOAD
    assert oct(dest.stat().st_mode & 0o777) == oct(0o644)
    assert oct((tmp_path / "app").stat().st_mode & 0o777) == oct(0o755)
    again = a.ensure(server + "/app-1.0.pyz", str(dest), "sha256:" + SHA)
    assert not again["changed"]


def test_mismatch_leaves_nothing(server, tmp_path):
    dest = tmp_path / "app" / "releases" / "1.0" / "app.pyz"
    with pytest.raises(a.ArtifactError, match="sha256 mismatch .* expected 0{64}, got %s" % SHA):
        a.ensure(server + "/app-1.0.pyz", str(dest), "sha256:" + "0" * 64)
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("path, fragment", [
    ("/fault/404/app-1.0.pyz", "HTTP 404"),
    ("/fault/500/app-1.0.pyz", "HTTP 500"),
    ("/fault/truncate/app-1.0.pyz", "truncated|broke off"),
])
def test_server_faults_leave_nothing(server, tmp_path, path, fragment):
    dest = tmp_path / "r" / "app.pyz"
    with pytest.raises(a.ArtifactError, match=fragment):
        a.ensure(server + path, str(dest), "sha256:" + SHA)
    assert os.listdir(str(tmp_path)) == []


def test_stall_times_out(server, tmp_path):
    with pytest.raises(a.ArtifactError, match="stalled|timed out"):
        a.ensure(server + "/fault/stall/app-1.0.pyz", str(tmp_path / "app.pyz"), "sha256:" + SHA, timeout=1)
    assert os.listdir(str(tmp_path)) == []


def test_an_existing_release_is_immutable(server, tmp_path):
    dest = tmp_path / "app.pyz"
    dest.write_bytes(b"something else")
    with pytest.raises(a.ArtifactError, match="immutable"):
        a.ensure(server + "/app-1.0.pyz", str(dest), "sha256:" + SHA)
    assert dest.read_bytes() == b"something else"


def test_file_urls_and_check_mode(tmp_path):
    src = tmp_path / "src.pyz"
    src.write_bytes(PAYLOAD)
    dest = tmp_path / "out" / "app.pyz"
    res = a.ensure("file://" + str(src), str(dest), "sha256:" + SHA, check_mode=True)
    assert res["changed"] and not dest.exists() and not (tmp_path / "out").exists()
    res = a.ensure("file://" + str(src), str(dest), "sha256:" + SHA)
    assert res["changed"] and dest.read_bytes() == PAYLOAD


def test_makedirs_sets_modes_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        created = a.makedirs(str(tmp_path / "a" / "b"), 0o755)
    finally:
        os.umask(old)
    assert len(created) == 2
    assert (tmp_path / "a" / "b").stat().st_mode & 0o777 == 0o755

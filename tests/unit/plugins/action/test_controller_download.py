import hashlib
import os
import sys
import threading

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils._artifact import ArtifactError
from ansible_collections.containerless.zipapp.plugins.plugin_utils._controller_download import controller_copy

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(TESTS))
import artifact_server  # noqa: E402

PAYLOAD = b"zipapp" * 50000
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def server(tmp_path):
    d = tmp_path / "srv"
    d.mkdir()
    (d / "app-1.pyz").write_bytes(PAYLOAD)
    artifact_server.Handler.directory = str(d)
    srv = artifact_server.Server(("127.0.0.1", 0), artifact_server.Handler)
    srv.requests = 0
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv, "http://127.0.0.1:%d" % srv.server_address[1], d
    srv.shutdown()


def test_downloads_once_and_reuses_the_verified_copy(server, tmp_path):
    srv, url, d = server
    cache = str(tmp_path / "cache")
    path = controller_copy(url + "/app-1.pyz", SHA, cache, 10, {}, True)
    assert path == os.path.join(cache, SHA, "app-1.pyz")
    assert open(path, "rb").read() == PAYLOAD
    assert os.stat(path).st_mode & 0o777 == 0o600
    (d / "app-1.pyz").unlink()  # the server no longer has it: the cache must answer
    assert controller_copy(url + "/app-1.pyz", SHA, cache, 10, {}, True) == path


def test_a_corrupt_cache_entry_is_replaced(server, tmp_path):
    srv, url, d = server
    cache = str(tmp_path / "cache")
    os.makedirs(os.path.join(cache, SHA))
    with open(os.path.join(cache, SHA, "app-1.pyz"), "wb") as f:
        f.write(b"corrupt")
    path = controller_copy(url + "/app-1.pyz", SHA, cache, 10, {}, True)
    assert open(path, "rb").read() == PAYLOAD


def test_a_mismatch_leaves_no_cache_entry_file(server, tmp_path):
    srv, url, d = server
    cache = str(tmp_path / "cache")
    with pytest.raises(ArtifactError, match="sha256 mismatch"):
        controller_copy(url + "/app-1.pyz", "0" * 64, cache, 10, {}, True)
    assert os.listdir(os.path.join(cache, "0" * 64)) == []

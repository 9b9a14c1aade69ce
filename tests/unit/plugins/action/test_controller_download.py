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


# --- s3:// sources: always on the controller ---------------------------------------------------------

class FakeTemplar:
    def template(self, value):
        return value


def test_s3_settings_come_from_the_zipapp_s3_variables():
    from ansible.errors import AnsibleActionFail
    from ansible_collections.containerless.zipapp.plugins.plugin_utils._controller_download import s3_settings
    task_vars = {"zipapp_s3_endpoint_url": "http://127.0.0.1:9000", "zipapp_s3_region": "",
                 "zipapp_s3_access_key": "AK", "zipapp_s3_secret_key": "SK", "zipapp_url": "x"}
    assert s3_settings(task_vars, FakeTemplar()) == {"endpoint_url": "http://127.0.0.1:9000", "access_key": "AK",
                                                     "secret_key": "SK"}
    assert s3_settings({}, FakeTemplar()) == {}
    with pytest.raises(AnsibleActionFail, match="zipapp_s3_access_key and zipapp_s3_secret_key go together"):
        s3_settings({"zipapp_s3_access_key": "AK"}, FakeTemplar())


class FakeTask:
    check_mode = False
    args = {}


class RecordingAction:
    """What ControllerDownloadAction._run_module needs of ActionBase, recording the module runs."""

    MODULE = "containerless.zipapp.zipapp_artifact"

    def __init__(self):
        self._templar = FakeTemplar()
        self._task = FakeTask()
        self.runs = []

    def _execute_module(self, module_name, module_args, task_vars):
        self.runs.append(dict(module_args))
        return {"changed": False, "missing": False}


def run_module(args, task_vars):
    from ansible_collections.containerless.zipapp.plugins.plugin_utils._controller_download import (
        ControllerDownloadAction,
    )
    action = RecordingAction()
    result = ControllerDownloadAction._run_module(action, dict(args), task_vars)
    return action, result


@pytest.fixture
def s3_bucket(s3_mock):
    """The mock S3 bucket (tests/unit/conftest.py) holding app-1.pyz and its SHA256SUMS; the credentials come
    from the task's variables only."""
    s3_mock.put_object(Bucket="artifacts", Key="app-1.pyz", Body=PAYLOAD)
    s3_mock.put_object(Bucket="artifacts", Key="SHA256SUMS", Body=("%s  app-1.pyz\n" % SHA).encode())
    yield s3_mock


S3_VARS = {"zipapp_s3_access_key": "AK", "zipapp_s3_secret_key": "SK"}


def test_an_s3_url_is_downloaded_on_the_controller_even_with_download_on_target(s3_bucket, tmp_path):
    args = {"url": "s3://artifacts/app-1.pyz", "checksum": "sha256:s3://artifacts/SHA256SUMS", "dest": "/x",
            "download_on": "target", "controller_cache": str(tmp_path / "cache"), "timeout": 10, "headers": {},
            "validate_certs": True}
    action, result = run_module(args, S3_VARS)
    # the host was only asked whether it has the file (no url), with the sha256 resolved here
    assert action.runs == [{"checksum": "sha256:" + SHA, "dest": "/x", "timeout": 10, "headers": {},
                            "validate_certs": True, "source_url": "s3://artifacts/app-1.pyz"}]
    assert "SK" not in str(action.runs) and "AK" not in str(action.runs)


def test_an_s3_sums_file_is_read_on_the_controller_for_an_http_download(s3_bucket):
    args = {"url": "http://127.0.0.1:18750/app-1.pyz", "checksum": "sha256:s3://artifacts/SHA256SUMS",
            "dest": "/x", "download_on": "target", "controller_cache": "/nonexistent", "timeout": 10}
    action, _result = run_module(args, S3_VARS)
    assert action.runs == [{"url": "http://127.0.0.1:18750/app-1.pyz", "checksum": "sha256:" + SHA, "dest": "/x",
                            "timeout": 10}]


def test_an_s3_download_fills_the_controller_cache(s3_bucket, tmp_path):
    cache = str(tmp_path / "cache")
    path = controller_copy("s3://artifacts/app-1.pyz", SHA, cache, 10, {}, True, {"access_key": "AK",
                                                                                  "secret_key": "SK"})
    assert open(path, "rb").read() == PAYLOAD and path.endswith("/%s/app-1.pyz" % SHA)


def test_a_missing_s3_object_fails_before_the_host_is_asked(s3_bucket):
    from ansible.errors import AnsibleActionFail
    args = {"url": "s3://artifacts/app-2.pyz", "checksum": "sha256:s3://artifacts/SHA256SUMS", "dest": "/x",
            "download_on": "controller", "timeout": 10}
    with pytest.raises(AnsibleActionFail, match="has no line for 'app-2.pyz'; nothing was changed"):
        run_module(args, S3_VARS)

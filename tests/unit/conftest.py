"""Make ``ansible_collections.containerless.zipapp`` importable from this checkout.

Under ``ansible-test units`` the collection already lives in an ansible_collections tree; when
pytest runs from a plain checkout, link the checkout into a temporary one.
"""

import importlib
import os
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

try:
    importlib.import_module("ansible_collections.containerless.zipapp")
except ImportError:
    tree = tempfile.mkdtemp(prefix="zipapp-collections-")
    os.makedirs(os.path.join(tree, "ansible_collections", "containerless"))
    os.symlink(ROOT, os.path.join(tree, "ansible_collections", "containerless", "zipapp"))
    sys.path.insert(0, tree)
    for name in [m for m in sys.modules if m == "ansible_collections" or m.startswith("ansible_collections.")]:
        del sys.modules[name]


@pytest.fixture
def s3_mock(monkeypatch):
    """moto's in-process S3 (no network) with an empty bucket ``artifacts``, and a boto3 client for it.

    No AWS setting of this machine leaks in, and no credentials are set in the environment: a test that
    needs boto3's default credentials sets them (see the ``bucket`` fixture of the module_utils tests)."""
    moto = pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
              "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="AK", aws_secret_access_key="SK")
        client.create_bucket(Bucket="artifacts")
        yield client

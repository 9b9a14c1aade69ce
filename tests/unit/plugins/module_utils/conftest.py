"""Fixtures shared by the module_utils tests."""

import pytest


@pytest.fixture
def bucket(monkeypatch):
    """An S3 bucket ``artifacts`` in moto's in-process mock (no network), and a boto3 client for it."""
    moto = pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="artifacts")
        yield client

"""Fixtures shared by the module_utils tests."""

import pytest


@pytest.fixture
def bucket(s3_mock, monkeypatch):
    """The mock S3 bucket ``artifacts`` (tests/unit/conftest.py), with credentials in the environment, where
    boto3's default chain finds them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    yield s3_mock

import builtins
import hashlib
import re

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _artifact as a
from ansible_collections.containerless.zipapp.plugins.module_utils import _s3 as s


@pytest.mark.parametrize("url,expected", [
    ("s3://bucket/key.pyz", ("bucket", "key.pyz")),
    ("S3://my.bucket-1/a/b/demoapp-1.0.pyz", ("my.bucket-1", "a/b/demoapp-1.0.pyz")),
    ("s3://bucket/a%20b.pyz", ("bucket", "a%20b.pyz")),  # keys are literal
])
def test_parse_s3_url(url, expected):
    assert s.parse_s3_url(url) == expected


@pytest.mark.parametrize("url", ["s3://bucket", "s3://bucket/", "s3://bucket/dir/", "s3://b/key", "s3://key@bucket/x",
                                 "s3://bucket/a b", "s3://bucket//x", "s3://bucket/x?versionId=1", "https://x/y"])
def test_bad_s3_urls(url):
    with pytest.raises(s.S3Error):
        s.parse_s3_url(url)


def test_prefixes():
    assert s.parse_s3_url("s3://bucket", key_required=False) == ("bucket", "")
    assert s.parse_s3_url("s3://bucket/a/b", key_required=False) == ("bucket", "a/b/")


def test_file_name_of_an_s3_url_is_literal():
    assert a.url_file_name("s3://bucket/dir/demoapp-1.0%2B1.pyz") == "demoapp-1.0%2B1.pyz"


def test_settings():
    values = {"x_endpoint_url": "http://127.0.0.1:9000", "x_region": "", "x_access_key": "AK", "x_secret_key": "SK"}
    settings = s.settings_from(values, "x_")
    assert settings == {"endpoint_url": "http://127.0.0.1:9000", "access_key": "AK", "secret_key": "SK"}
    assert s.settings_errors(settings) == []
    assert "SK" not in str(s.describe(settings)) and "AK" not in str(s.describe(settings))


@pytest.mark.parametrize("settings,match", [
    ({"access_key": "AK"}, "access_key and secret_key go together"),
    ({"secret_key": "SK"}, "access_key and secret_key go together"),
    ({"session_token": "T"}, "session_token needs"),
    ({"profile": "p", "access_key": "AK", "secret_key": "SK"}, "exclude each other"),
    ({"endpoint_url": "minio:9000"}, "http:// or https://"),
    ({"endpoint_url": "http://ak:sk@minio:9000"}, "must not carry credentials"),
    ({"secret_key": 5, "access_key": "AK"}, r"secret_key must be a string \(value hidden\)"),
])
def test_settings_errors(settings, match):
    errors = s.settings_errors(settings)
    assert any(re.search(match, e) for e in errors), errors
    assert not any("sk@" in e or "SK" in e for e in errors)


def test_a_missing_boto3_names_what_to_install(monkeypatch):
    real = builtins.__import__

    def no_boto(name, *args, **kwargs):
        if name.split(".")[0] in ("boto3", "botocore"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_boto)
    with pytest.raises(a.ArtifactError, match=r"boto3.*pip install boto3"):
        a.fetch_text("s3://bucket/SHA256SUMS")


def test_download_and_checksum_from_s3(bucket, tmp_path):
    payload = b"pyz" * 100000
    digest = hashlib.sha256(payload).hexdigest()
    bucket.put_object(Bucket="artifacts", Key="demoapp/demoapp-1.0.pyz", Body=payload)
    bucket.put_object(Bucket="artifacts", Key="demoapp/SHA256SUMS", Body=("%s  demoapp-1.0.pyz\n" % digest).encode())
    url = "s3://artifacts/demoapp/demoapp-1.0.pyz"
    assert a.resolve_sha256("sha256:s3://artifacts/demoapp/SHA256SUMS", url) == digest
    tmp, size = a.download(url, digest, str(tmp_path))
    assert size == len(payload) and open(tmp, "rb").read() == payload
    with pytest.raises(a.ArtifactError, match="sha256 mismatch"):
        a.download(url, "0" * 64, str(tmp_path))
    with pytest.raises(a.ArtifactError, match="s3://artifacts/demoapp/nope.pyz does not exist"):
        a.download("s3://artifacts/demoapp/nope.pyz", digest, str(tmp_path))
    with pytest.raises(a.ArtifactError, match="the bucket does not exist"):
        a.fetch_text("s3://no-such-bucket/SHA256SUMS")
    assert sorted(p.name for p in tmp_path.iterdir()) == [tmp.rsplit("/", 1)[-1]]


def test_object_sha256_prefers_the_recorded_metadata(bucket):
    bucket.put_object(Bucket="artifacts", Key="a", Body=b"x", Metadata={"sha256": "f" * 64})
    bucket.put_object(Bucket="artifacts", Key="b", Body=b"x")
    client = s.connect({})
    assert s.object_sha256(client, "artifacts", "a") == "f" * 64
    assert s.object_sha256(client, "artifacts", "b") == hashlib.sha256(b"x").hexdigest()
    assert s.object_sha256(client, "artifacts", "c") is None

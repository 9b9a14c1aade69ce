import hashlib
import io

from ansible_collections.containerless.zipapp.plugins.module_utils import _digest as d


def test_stream_digest_spans_chunks_and_reads_to_the_end():
    payload = b"0123456789abcdef" * (d.CHUNK // 8 + 3)  # a bit more than two chunks
    stream = io.BytesIO(payload)
    assert d.sha256_stream(stream) == hashlib.sha256(payload).hexdigest()
    assert stream.read() == b"" and not stream.closed


def test_stream_digest_starts_where_the_stream_is():
    stream = io.BytesIO(b"headerbody")
    stream.read(6)
    assert d.sha256_stream(stream) == hashlib.sha256(b"body").hexdigest()


def test_file_digest(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "app.pyz").write_bytes(b"PK\x03\x04" * 1000)
    assert d.sha256_file(str(tmp_path / "empty")) == hashlib.sha256(b"").hexdigest()
    assert d.sha256_file(str(tmp_path / "app.pyz")) == hashlib.sha256(b"PK\x03\x04" * 1000).hexdigest()

# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``s3://bucket/key`` URLs: parse them, connect, read and write objects.

This is a private module_utils file: its interface may change without notice.

S3 is optional: only ``s3://`` URLs need the Python library boto3 (with botocore), in the Python that runs
the code (for the deploy role that is ``ansible-playbook``'s own Python on the controller: hosts never
talk to S3).  boto3 is imported on first use, so everything else works without it.

Settings (every one optional; empty means boto3's own configuration: ``AWS_*`` environment variables,
``~/.aws/config`` and ``credentials``, an instance role): ``endpoint_url`` for an S3-compatible server
(MinIO, Ceph, moto; path-style addressing is used then), ``region``, ``access_key`` with ``secret_key``
(and ``session_token``), or ``profile``.  Secrets never appear in a message.
"""

import re
import sys

from ansible_collections.containerless.zipapp.plugins.module_utils._digest import sha256_stream

SETTINGS = ("endpoint_url", "region", "access_key", "secret_key", "session_token", "profile")
SECRET_SETTINGS = frozenset(["secret_key", "session_token"])
BUCKET_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,254}")


class S3Error(Exception):
    """An S3 operation failed; ``not_found`` tells a missing object from other failures."""

    def __init__(self, msg, not_found=False, conflict=False):
        super().__init__(msg)
        self.not_found = not_found
        self.conflict = conflict


def is_s3_url(url):
    return isinstance(url, str) and url[:5].lower() == "s3://"


def parse_s3_url(url, key_required=True):
    """``(bucket, key)`` of ``s3://bucket/key``; the key is taken literally (no percent-decoding).

    With ``key_required=False`` a prefix URL (``s3://bucket``, ``s3://bucket/prefix/``) is accepted and its
    key is the prefix ('' or ending in '/').
    """
    if not is_s3_url(url):
        raise S3Error("%r is not an s3://bucket/key URL" % (url,))
    rest = url[5:]
    bucket, _sep, key = rest.partition("/")
    if "@" in bucket:
        raise S3Error("an s3:// URL must not carry credentials: use the S3 access key and secret key settings")
    if not BUCKET_RE.fullmatch(bucket):
        raise S3Error("%r: %r is not a valid bucket name" % (url, bucket))
    if any(c in key for c in "\r\n\t ?#") or key.startswith("/") or "//" in key:
        raise S3Error("%r: the key must not contain whitespace, '?', '#', '//' or start with '/'" % url)
    if key_required and (not key or key.endswith("/")):
        raise S3Error("%r must name an object (s3://bucket/key), not a bucket or a prefix" % url)
    if not key_required and key and not key.endswith("/"):
        key += "/"
    return bucket, key


def settings_from(values, prefix=""):
    """The S3 settings in ``values`` (keys ``<prefix><setting>``), with empty or missing ones left out."""
    out = {}
    for name in SETTINGS:
        value = (values or {}).get(prefix + name)
        if value not in (None, ""):
            out[name] = value
    return out


def describe(settings):
    """The settings without their secrets, for messages."""
    return dict((k, "(hidden)" if k in SECRET_SETTINGS or k == "access_key" else v)
                for k, v in sorted((settings or {}).items()))


def settings_errors(settings, names=None):
    """Messages for settings that cannot work together; ``names`` maps a setting to the variable to name."""
    names = names or dict((s, s) for s in SETTINGS)
    s = settings or {}
    errors = []
    for key, value in sorted(s.items()):
        if key not in SETTINGS:
            errors.append("%s is not an S3 setting" % key)
        elif not isinstance(value, str):
            errors.append("%s must be a string%s" % (names[key], " (value hidden)" if key in SECRET_SETTINGS else ""))
    if errors:
        return errors
    if bool(s.get("access_key")) != bool(s.get("secret_key")):
        errors.append("%s and %s go together: set both or neither" % (names["access_key"], names["secret_key"]))
    if s.get("session_token") and not s.get("access_key"):
        errors.append("%s needs %s and %s" % (names["session_token"], names["access_key"], names["secret_key"]))
    if s.get("profile") and s.get("access_key"):
        errors.append("%s and %s exclude each other: use a profile or keys" % (names["profile"], names["access_key"]))
    url = s.get("endpoint_url")
    if url:
        scheme, _sep, rest = url.partition("://")
        authority = rest.split("/", 1)[0]
        if scheme.lower() not in ("http", "https") or not authority or any(c.isspace() for c in url):
            errors.append("%s=%r must be an http:// or https:// URL" % (names["endpoint_url"], url))
        elif "@" in authority:
            errors.append("%s must not carry credentials: use %s and %s"
                          % (names["endpoint_url"], names["access_key"], names["secret_key"]))
    return errors


def boto3_missing_message():
    return ("s3:// URLs need the Python library boto3 (with botocore) in the Python that runs them, %s: "
            "install it with '%s -m pip install boto3' (or your distribution's python3-boto3); "
            "nothing else needs it" % (sys.executable, sys.executable))


def _botocore():
    try:
        import boto3  # noqa: F401
        import botocore.config  # noqa: F401
        import botocore.exceptions  # noqa: F401
    except ImportError:
        raise S3Error(boto3_missing_message())
    return boto3, botocore


def connect(settings=None, timeout=60, validate_certs=True):
    """An S3 client for ``settings`` (see the module docstring)."""
    boto3, botocore = _botocore()
    s = dict(settings or {})
    errors = settings_errors(s)
    if errors:
        raise S3Error("; ".join(errors))
    config = dict(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 3, "mode": "standard"})
    if s.get("endpoint_url"):
        config["s3"] = {"addressing_style": "path"}  # S3-compatible servers rarely have bucket DNS names
    try:
        session = boto3.session.Session(profile_name=s.get("profile") or None)
        return session.client(
            "s3",
            endpoint_url=s.get("endpoint_url") or None,
            region_name=s.get("region") or None,
            aws_access_key_id=s.get("access_key") or None,
            aws_secret_access_key=s.get("secret_key") or None,
            aws_session_token=s.get("session_token") or None,
            verify=validate_certs,
            config=botocore.config.Config(**config),
        )
    except botocore.exceptions.ProfileNotFound:
        raise S3Error("the S3 profile %r is not in the AWS config files" % s.get("profile"))
    except botocore.exceptions.BotoCoreError as e:
        raise S3Error("cannot set up the S3 client: %s" % e)


def error(e, what):
    """An S3Error for a botocore exception ``e`` raised while working on ``what`` (an s3:// URL)."""
    _boto3, botocore = _botocore()
    exc = botocore.exceptions
    if isinstance(e, exc.ClientError):
        err = e.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("NoSuchKey", "404", "NotFound") or (status == 404 and code != "NoSuchBucket"):
            return S3Error("%s does not exist" % what, not_found=True)
        if code == "NoSuchBucket":
            return S3Error("%s: the bucket does not exist" % what)
        if code in ("AccessDenied", "403", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch") or status == 403:
            return S3Error("%s: access denied (%s): check the S3 credentials and the bucket policy" % (what, code))
        if code in ("PreconditionFailed", "412", "ConditionalRequestConflict") or status in (409, 412):
            return S3Error("%s was changed by someone else at the same time (%s)" % (what, code), conflict=True)
        return S3Error("%s: %s %s" % (what, code or status, err.get("Message", "")))
    if isinstance(e, exc.NoCredentialsError):
        return S3Error("%s: no S3 credentials (set an access key and secret key or a profile, or the "
                       "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment variables)" % what)
    if isinstance(e, (exc.ConnectTimeoutError, exc.ReadTimeoutError)):
        return S3Error("%s: timed out" % what)
    if isinstance(e, exc.EndpointConnectionError):
        return S3Error("%s: cannot connect to the S3 endpoint %s" % (what, getattr(e, "kwargs", {}).get("endpoint_url")))
    return S3Error("%s: %s" % (what, e))


def _call(what, fn, **kwargs):
    _boto3, botocore = _botocore()
    try:
        return fn(**kwargs)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        raise error(e, what)


def url_of(bucket, key):
    return "s3://%s/%s" % (bucket, key)


def head(client, bucket, key):
    """``{size, etag, metadata}`` of an object, or None when it does not exist."""
    try:
        r = _call(url_of(bucket, key), client.head_object, Bucket=bucket, Key=key)
    except S3Error as e:
        if e.not_found:
            return None
        raise
    return {"size": r.get("ContentLength"), "etag": r.get("ETag"), "metadata": r.get("Metadata") or {}}


def open_object(client, bucket, key):
    """``(stream, length)`` of an object; the stream has ``read(n)`` and ``close()``."""
    r = _call(url_of(bucket, key), client.get_object, Bucket=bucket, Key=key)
    return r["Body"], r.get("ContentLength")


def read_object(client, bucket, key, max_bytes):
    """``(bytes, etag)`` of a small object, or ``(None, None)`` when it does not exist."""
    try:
        r = _call(url_of(bucket, key), client.get_object, Bucket=bucket, Key=key)
    except S3Error as e:
        if e.not_found:
            return None, None
        raise
    body = r["Body"]
    try:
        data = body.read(max_bytes + 1)
    finally:
        body.close()
    if len(data) > max_bytes:
        raise S3Error("%s is larger than %d bytes" % (url_of(bucket, key), max_bytes))
    return data, r.get("ETag")


def object_sha256(client, bucket, key, info=None):
    """The sha256 of an object: its ``sha256`` metadata (written by the publish module), else its content."""
    info = info or head(client, bucket, key)
    if info is None:
        return None
    recorded = (info.get("metadata") or {}).get("sha256")
    if recorded and re.fullmatch(r"[0-9a-f]{64}", recorded):
        return recorded
    stream, _length = open_object(client, bucket, key)
    try:
        return sha256_stream(stream)
    finally:
        stream.close()


def put_object(client, bucket, key, body, sha256=None, content_type="application/octet-stream",
               if_none_match=False, if_match=None):
    """Write an object; with ``if_none_match`` only if it does not exist, with ``if_match`` only if its
    ETag is still that one.  Servers (or botocore versions) without conditional writes get a plain write:
    the caller has checked before."""
    _boto3, botocore = _botocore()
    what = url_of(bucket, key)
    kwargs = dict(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    if sha256:
        kwargs["Metadata"] = {"sha256": sha256}
    condition = {}
    if if_none_match:
        condition["IfNoneMatch"] = "*"
    elif if_match:
        condition["IfMatch"] = if_match
    start = body.tell() if hasattr(body, "tell") else None
    if condition:
        try:
            return client.put_object(**dict(kwargs, **condition))
        except botocore.exceptions.ParamValidationError:
            pass  # a botocore from before conditional writes
        except botocore.exceptions.ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", ""))
            if code not in ("NotImplemented", "501", "InvalidArgument"):
                raise error(e, what)
        except botocore.exceptions.BotoCoreError as e:
            raise error(e, what)
        if start is not None:
            body.seek(start)
    return _call(what, client.put_object, **kwargs)

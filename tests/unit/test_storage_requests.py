"""Storage requests: every field of api.md's add_storage validated, errors naming the field; endpoints."""

from typing import Any

import pytest
from pydantic import ValidationError

from transcoder import endpoints, storage_secrets
from transcoder.api.requests import validation_error
from transcoder.api.storage_requests import AddStorageRequest, StorageRef
from transcoder.locations import S3Location, parse_object_url, parse_s3_url

VALID: dict[str, Any] = {"type": "s3", "region": "us-east-1", "bucket": "my-bucket"}
SECRET = "s3cr3t-Value-That-Must-Not-Leak"


def _error(fields: dict[str, Any]) -> tuple[int, str]:
    with pytest.raises(ValidationError) as raised:
        AddStorageRequest(**fields)
    error = validation_error(raised.value.errors())
    return int(error.code), error.detail


def test_minimal_request_and_defaults() -> None:
    request = AddStorageRequest(**VALID)
    assert (request.type, request.region, request.bucket, request.prefix) == ("s3", "us-east-1", "my-bucket", "")
    assert request.storage_ak is None and request.storage_sk is None
    assert request.notify is None and request.endpoint is None


@pytest.mark.parametrize("field", ["type", "region", "bucket"])
def test_required_fields(field: str) -> None:
    assert _error({k: v for k, v in VALID.items() if k != field}) == (1001, field)


@pytest.mark.parametrize("storage_type", ["s3", "oss", "obs"])
def test_types_accepted(storage_type: str) -> None:
    assert AddStorageRequest(**{**VALID, "type": storage_type}).type == storage_type


@pytest.mark.parametrize("storage_type", ["S3", "gcs", "", 3])
def test_other_types_refused(storage_type: Any) -> None:
    code, detail = _error({**VALID, "type": storage_type})
    assert code == 1002 and detail.startswith("type:")


@pytest.mark.parametrize("region", ["us-east-1", "cn-hangzhou", "cn-north-4", "ap-southeast-1", "eu-west-101"])
def test_regions_accepted(region: str) -> None:
    assert AddStorageRequest(**{**VALID, "region": region}).region == region


@pytest.mark.parametrize("region", ["", "US-EAST-1", "us_east_1", "useast", "us-east-1.evil.com", "a-b", "x" * 40, 1])
def test_malformed_regions_refused(region: Any) -> None:
    code, detail = _error({**VALID, "region": region})
    assert code == 1002 and detail.startswith("region:")


@pytest.mark.parametrize("bucket", ["abc", "my.bucket-1", "a" * 63, "0bucket9"])
def test_bucket_names_accepted(bucket: str) -> None:
    assert AddStorageRequest(**{**VALID, "bucket": bucket}).bucket == bucket


@pytest.mark.parametrize(
    "bucket",
    [
        "ab",  # shorter than 3
        "a" * 64,
        "MyBucket",  # upper case
        "my_bucket",
        "-bucket",
        "bucket-",
        "my..bucket",
        "my.-bucket",
        "192.168.1.1",  # formatted as an IP address
        "xn--bucket",
        "bucket-s3alias",
        "bucket--ol-s3",
        "buc ket",
        "",
    ],
)
def test_bucket_names_refused(bucket: str) -> None:
    code, detail = _error({**VALID, "bucket": bucket})
    assert code == 1002 and detail.startswith("bucket:"), detail


@pytest.mark.parametrize("prefix", ["", "videos", "videos/2024/", "a/b.c/d-e_f", "ünïcode/名前"])
def test_prefixes_accepted(prefix: str) -> None:
    assert AddStorageRequest(**{**VALID, "prefix": prefix}).prefix == prefix


@pytest.mark.parametrize(
    ("prefix", "why"),
    [
        ("/abs", "relative"),
        ("a/../b", "'..'"),
        ("..", "'..'"),
        ("a/./b", "'..'"),
        ("a\\b", "relative"),
        ("a\nb", "control"),
        ("a\x00b", "control"),
        ("a//b", "empty"),
        ("x" * 513, "512 bytes"),
    ],
)
def test_unsafe_prefixes_refused(prefix: str, why: str) -> None:
    code, detail = _error({**VALID, "prefix": prefix})
    assert code == 1002 and detail.startswith("prefix:") and why in detail, detail


def test_keys_both_or_neither() -> None:
    both = AddStorageRequest(**{**VALID, "storage_ak": "AKIAEXAMPLE", "storage_sk": SECRET})
    assert both.storage_sk is not None and both.storage_sk.get_secret_value() == SECRET
    assert SECRET not in repr(both) and SECRET not in str(both.model_dump())
    assert _error({**VALID, "storage_ak": "AKIAEXAMPLE"}) == (
        1002,
        "storage_sk: storage_ak and storage_sk go together (give both or neither)",
    )
    code, detail = _error({**VALID, "storage_sk": SECRET})
    assert code == 1002 and detail.startswith("storage_ak:")
    assert SECRET not in detail


@pytest.mark.parametrize("field", ["storage_ak", "storage_sk"])
@pytest.mark.parametrize("value", ["", 42, "k" * 257])
def test_malformed_keys_refused_without_echoing_them(field: str, value: Any) -> None:
    code, detail = _error({**VALID, "storage_ak": "AKIAEXAMPLE", "storage_sk": SECRET, field: value})
    assert code == 1002 and detail.startswith(f"{field}:")
    assert SECRET not in detail


@pytest.mark.parametrize("notify", ["https://hooks.example.com/transcoder", "https://example.com:8443/a?b=c"])
def test_notify_accepted(notify: str) -> None:
    assert AddStorageRequest(**{**VALID, "notify": notify}).notify == notify


@pytest.mark.parametrize(
    "notify", ["http://hooks.example.com/x", "ftp://x.example.com", "https://", "https://u:p@example.com/", "nope"]
)
def test_notify_must_be_https(notify: str) -> None:
    code, detail = _error({**VALID, "notify": notify})
    assert code == 1002 and detail.startswith("notify:")


def test_public_endpoint_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("socket.getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("8.8.8.8", 443))])
    request = AddStorageRequest(**{**VALID, "endpoint": "https://s3.example.com/"})
    assert request.endpoint == "https://s3.example.com"


@pytest.mark.parametrize(
    ("endpoint", "address"),
    [
        ("http://127.0.0.1:9000", "127.0.0.1"),
        ("https://metadata.example.com", "169.254.169.254"),
        ("https://internal.example.com", "10.0.0.5"),
        ("https://mapped.example.com", "::ffff:127.0.0.1"),
    ],
)
def test_endpoints_resolving_to_private_addresses_are_refused(
    monkeypatch: pytest.MonkeyPatch, endpoint: str, address: str
) -> None:
    monkeypatch.delenv("TRUSTED_INPUT_NETWORKS", raising=False)
    monkeypatch.setattr("socket.getaddrinfo", lambda *a, **k: [(2, 1, 6, "", (address, 443))])
    code, detail = _error({**VALID, "endpoint": endpoint})
    assert code == 1002 and detail.startswith("endpoint:") and "non-public" in detail, detail


def test_trusted_networks_allow_a_local_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", "127.0.0.1/32")
    assert AddStorageRequest(**{**VALID, "endpoint": "http://127.0.0.1:9000"}).endpoint == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("endpoint", "why"),
    [
        ("ftp://s3.example.com", "http"),
        ("s3.example.com", "http"),
        ("https://u:p@s3.example.com", "credentials"),
        ("https://s3.example.com/bucket", "path"),
        ("https://s3.example.com?x=1", "path"),
        ("https://s3.example.com:99999", "port"),
        ("https://a..b.example.com", "host"),
        ("https://no-such-host.invalid", "resolve"),
    ],
)
def test_malformed_endpoints_refused(endpoint: str, why: str) -> None:
    code, detail = _error({**VALID, "endpoint": endpoint})
    assert code == 1002 and detail.startswith("endpoint:") and why in detail, detail


def test_storage_ref_accepts_both_spellings() -> None:
    assert StorageRef(storage_id="sto-1").storage_id == "sto-1"
    assert StorageRef(**{"StorageId": "sto-2"}).storage_id == "sto-2"
    with pytest.raises(ValidationError) as raised:
        StorageRef()
    assert validation_error(raised.value.errors()).detail == "storage_id"


# --- endpoints and clients -----------------------------------------------------------------------


def test_provider_endpoints() -> None:
    assert endpoints.default_endpoint("s3", "eu-west-1") is None  # botocore's own AWS endpoints
    assert endpoints.default_endpoint("oss", "cn-hangzhou") == "https://s3.oss-cn-hangzhou.aliyuncs.com"
    assert endpoints.default_endpoint("obs", "cn-north-4") == "https://obs.cn-north-4.myhuaweicloud.com"
    with pytest.raises(endpoints.RefusedEndpoint):
        endpoints.default_endpoint("oss", "cn-hangzhou.evil.com/")


def test_client_configuration_per_type() -> None:
    oss = endpoints.client_config("oss", explicit_endpoint=False)
    assert oss.signature_version == "s3" and oss.s3 == {"addressing_style": "virtual"}
    obs = endpoints.client_config("obs", explicit_endpoint=False)
    assert obs.signature_version == "s3v4" and obs.s3 == {"addressing_style": "virtual"}
    explicit = endpoints.client_config("oss", explicit_endpoint=True)
    assert explicit.s3 is None  # botocore decides: path-style for an IP address, virtual for a name
    for config in (oss, obs, explicit):
        assert config.request_checksum_calculation == "when_required"


def test_explicit_endpoint_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", "127.0.0.2/32")
    keys = endpoints.Keys("AKIAFOREIGN", SECRET)
    client = endpoints.s3_client("s3", "us-east-1", "http://127.0.0.2:9000", keys)
    assert client.meta.endpoint_url == "http://127.0.0.2:9000"
    url = client.generate_presigned_url("get_object", Params={"Bucket": "foreign", "Key": "a.mp4"})
    assert url.startswith("http://127.0.0.2:9000/foreign/a.mp4?") and "AKIAFOREIGN" in url
    oss = endpoints.s3_client("oss", "cn-hangzhou", "", keys)
    assert oss.meta.endpoint_url == "https://s3.oss-cn-hangzhou.aliyuncs.com"
    assert oss.generate_presigned_url("get_object", Params={"Bucket": "media", "Key": "a.mp4"}).startswith(
        "https://media.s3.oss-cn-hangzhou.aliyuncs.com/a.mp4?"
    )
    assert SECRET not in repr(keys)


def test_secret_names_are_under_the_prefix() -> None:
    assert storage_secrets.secret_name("acct-1", "sto-x") == "transcoder/storages/acct-1/sto-x"
    with pytest.raises(ValueError):
        storage_secrets.secret_name("../other", "sto-x")


@pytest.mark.parametrize(
    ("url", "scheme", "bucket", "key"),
    [
        ("oss://media/raw/clip.mp4", "oss", "media", "raw/clip.mp4"),
        ("obs://my.bucket/a b.mp4", "obs", "my.bucket", "a b.mp4"),
        ("s3://foreignbucket/clip.mp4", "s3", "foreignbucket", "clip.mp4"),
    ],
)
def test_object_urls_of_every_storage_type(url: str, scheme: str, bucket: str, key: str) -> None:
    assert parse_object_url(url) == (scheme, S3Location(bucket, key))


@pytest.mark.parametrize("url", ["gs://media/a.mp4", "oss://Media/a.mp4", "obs://media/", "oss://media/a\n.mp4"])
def test_malformed_object_urls(url: str) -> None:
    with pytest.raises(ValueError):
        parse_object_url(url)
    with pytest.raises(ValueError, match="s3://bucket/key"):
        parse_s3_url("oss://media/a.mp4")  # where only s3:// is meant, the others stay refused

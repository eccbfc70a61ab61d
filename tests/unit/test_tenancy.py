"""Tenancy rules that need no AWS: each account's part of the output bucket, and which endpoints are one service."""

import pytest

from transcoder import endpoints, storages
from transcoder.locations import S3Location
from transcoder.settings import settings


@pytest.fixture(autouse=True)
def _fresh_settings() -> None:
    settings.cache_clear()


def test_each_account_has_its_own_part_of_the_output_bucket() -> None:
    assert storages.account_root("default") == "accounts/default/"
    assert storages.account_root("acme") == "accounts/acme/"
    # One key segment per account: `a` and `a/b` must not nest, nor `.`/`..` be collapsed by a URL client.
    assert storages.account_root("a/b") == "accounts/a%2Fb/"
    assert not storages.account_root("a/b").startswith(storages.account_root("a"))
    assert storages.account_root("..") == "accounts/%2E%2E/"
    assert storages.account_root("50%") == "accounts/50%25/"
    with pytest.raises(ValueError):
        storages.account_root("")


def test_default_is_the_only_storage_reached_with_the_services_credentials() -> None:
    acme = storages.default_storage("acme")
    assert (acme.storage_id, acme.bucket, acme.is_own_account) == ("default", "test-output", True)
    assert acme.location_of("out/clip.mp4") == S3Location("test-output", "accounts/acme/out/clip.mp4")
    assert storages.default_storage("other").location_of("out/clip.mp4").key == "accounts/other/out/clip.mp4"
    # A custom storage is never the service's own, whatever its endpoint, keys or bucket say.
    for custom in (
        storages.Storage(storage_id="sto-1", bucket="test-input", region="us-east-1"),
        storages.Storage(storage_id="sto-2", bucket="test-output", region="us-east-1", endpoint="http://x:1"),
        storages.Storage(storage_id="sto-3", bucket="mine", region="us-east-1", secret_arn="arn:secret"),
    ):
        assert not custom.is_own_account
        assert custom.location_of("p/clip.mp4") == S3Location(custom.bucket, "p/clip.mp4")


def test_a_stored_storage_without_keys_never_gets_a_client() -> None:
    legacy = storages.Storage(storage_id="sto-old", bucket="test-input", region="us-east-1")
    with pytest.raises(storages.KeysRequired, match="only for the built-in storage 'default'"):
        storages.s3_client_of(legacy)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("http://minio.example.com:9000", "http://minio.example.com:9000/"),
        ("http://minio.example.com:9000", "HTTP://MINIO.Example.COM:9000"),
        ("http://minio.example.com", "http://minio.example.com:80"),
        ("https://minio.example.com", "https://minio.example.com.:443/"),
        # A bucket name is global in its AWS partition: every S3 host of it reaches the same bucket.
        ("https://s3.us-east-1.amazonaws.com", "https://s3.amazonaws.com"),
        ("https://s3.us-east-1.amazonaws.com", "https://s3.eu-west-1.amazonaws.com:443"),
        ("https://s3.us-east-1.amazonaws.com", "http://s3-us-west-2.amazonaws.com"),
        ("https://s3.us-east-1.amazonaws.com", "https://s3.dualstack.us-east-1.amazonaws.com"),
        ("https://s3.us-east-1.amazonaws.com", "https://S3-FIPS.us-east-1.amazonaws.com"),
        ("https://s3.cn-north-1.amazonaws.com.cn", "https://s3.cn-northwest-1.amazonaws.com.cn"),
        # One server by address.
        ("http://127.0.0.1:5000", "http://localhost:5000"),
        ("http://127.0.0.1:5000", "http://127.1:5000"),
    ],
)
def test_endpoints_of_the_same_service(first: str, second: str) -> None:
    assert endpoints.same_service(first, second)
    assert endpoints.same_service(second, first)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("http://minio.example.com:9000", "http://minio.example.com:9001"),
        ("http://minio.example.com", "https://minio.example.com"),
        ("https://s3.us-east-1.amazonaws.com", "https://s3.oss-cn-hangzhou.aliyuncs.com"),
        ("https://s3.us-east-1.amazonaws.com", "https://s3.cn-north-1.amazonaws.com.cn"),
        ("https://s3.us-east-1.amazonaws.com", "https://s3.amazonaws.com.evil.example"),
        ("https://s3.us-east-1.amazonaws.com", "https://ec2.us-east-1.amazonaws.com"),
        ("http://127.0.0.1:5000", "http://127.0.0.2:5000"),
    ],
)
def test_endpoints_of_other_services(first: str, second: str) -> None:
    assert not endpoints.same_service(first, second)
    assert not endpoints.same_service(second, first)


def test_where_a_storage_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    assert endpoints.resolved_endpoint("s3", "eu-west-1", "") == "https://s3.eu-west-1.amazonaws.com"
    assert endpoints.resolved_endpoint("oss", "cn-hangzhou", "") == "https://s3.oss-cn-hangzhou.aliyuncs.com"
    assert endpoints.resolved_endpoint("oss", "cn-hangzhou", "http://127.0.0.1:9") == "http://127.0.0.1:9"
    # In local mode the deployment's S3 and a keyed `s3` storage without endpoint are the same emulator.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    assert endpoints.resolved_endpoint("s3", "eu-west-1", "") == "http://127.0.0.1:5000"


def test_the_deployments_own_buckets_at_its_own_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    from transcoder import storage

    storage.s3_client.cache_clear()
    monkeypatch.setenv("EXTRA_INPUT_BUCKETS", "partner-drops")
    assert storages.own_buckets() == {"test-input", "test-output", "test-work", "partner-drops"}
    try:
        assert storages.reaches_own_bucket("s3", "eu-west-1", "test-output")
        assert storages.reaches_own_bucket("s3", "us-east-1", "partner-drops", "https://s3.amazonaws.com")
        assert not storages.reaches_own_bucket("s3", "us-east-1", "someone-elses")
        assert not storages.reaches_own_bucket("oss", "cn-hangzhou", "test-output")
    finally:
        storage.s3_client.cache_clear()

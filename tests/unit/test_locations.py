"""`s3://bucket/key` parsing and output keys that cannot escape the storage's prefix."""

import pytest

from transcoder.locations import S3Location, output_key, parse_s3_url


@pytest.mark.parametrize(
    ("url", "bucket", "key"),
    [
        ("s3://bucket/key.mp4", "bucket", "key.mp4"),
        ("s3://bucket/key with spaces/ünïcode.mp4", "bucket", "key with spaces/ünïcode.mp4"),
        ("s3://my.bucket-1/a/b/c.mov", "my.bucket-1", "a/b/c.mov"),
        ("s3://abc/x", "abc", "x"),
        ("s3://" + "a" * 63 + "/k", "a" * 63, "k"),
        ("s3://bucket/dir/", "bucket", "dir/"),
        ("s3://bucket/a%20b.mp4", "bucket", "a%20b.mp4"),  # keys are taken literally, not URL-decoded
        ("s3://bucket/视频/文件.mp4", "bucket", "视频/文件.mp4"),
    ],
)
def test_parse_accepts(url: str, bucket: str, key: str) -> None:
    location = parse_s3_url(url)
    assert location == S3Location(bucket, key)
    assert location.url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://bucket/key.mp4",
        "https://bucket.s3.amazonaws.com/key.mp4",
        "S4://bucket/key",
        "bucket/key.mp4",
        "/local/file.mp4",
        "",
        "s3:/bucket/key",
    ],
)
def test_parse_rejects_other_schemes(url: str) -> None:
    with pytest.raises(ValueError):
        parse_s3_url(url)


@pytest.mark.parametrize("url", ["s3://bucket", "s3://bucket/", "s3://bucket//"[:-1]])
def test_parse_rejects_missing_key(url: str) -> None:
    with pytest.raises(ValueError, match="key"):
        parse_s3_url(url)


@pytest.mark.parametrize(
    "bucket",
    [
        "",
        "ab",  # too short
        "a" * 64,  # too long
        "Bucket",  # upper case
        "my_bucket",
        "-bucket",
        "bucket-",
        ".bucket",
        "bucket.",
        "my..bucket",
        "buck et",
        "user@bucket",
        "bucket:443",
    ],
)
def test_parse_rejects_bad_bucket_names(bucket: str) -> None:
    with pytest.raises(ValueError):
        parse_s3_url(f"s3://{bucket}/key.mp4")


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1f", "\x7f"])
def test_parse_rejects_control_characters_in_key(char: str) -> None:
    with pytest.raises(ValueError, match="control"):
        parse_s3_url(f"s3://bucket/a{char}b.mp4")


@pytest.mark.parametrize(
    "url",
    ["s3://bucket/a\nb.mp4", "s3://bucket/a\rb.mp4", "s3://bucket/a\tb.mp4", "\x01s3://bucket/k.mp4"],
    ids=["LF", "CR", "TAB", "leading-SOH"],
)
def test_parse_rejects_control_characters_stripped_by_urlsplit(url: str) -> None:
    with pytest.raises(ValueError):
        parse_s3_url(url)


@pytest.mark.parametrize(
    "url",
    ["s3://bucket/key.mp4?versionId=1", "s3://bucket/key.mp4?", "s3://bucket/key.mp4#frag", "s3://bucket/k?x=1#y"],
)
def test_parse_rejects_query_and_fragment(url: str) -> None:
    with pytest.raises(ValueError):
        parse_s3_url(url)


def test_parse_key_length_limit() -> None:
    assert parse_s3_url("s3://bucket/" + "k" * 1024).key == "k" * 1024
    with pytest.raises(ValueError):
        parse_s3_url("s3://bucket/" + "k" * 1025)
    with pytest.raises(ValueError):
        parse_s3_url("s3://bucket/" + "é" * 513)  # 1026 bytes in UTF-8


# ---------------------------------------------------------------- output_key


@pytest.mark.parametrize(
    ("prefix", "output", "expected"),
    [
        ("", "movie", "movie.mp4"),
        ("", "movie.mp4", "movie.mp4"),
        ("", "movie.MP4", "movie.MP4"),
        ("", "movie.mov", "movie.mov.mp4"),
        ("", "a/b/movie", "a/b/movie.mp4"),
        ("", "dir.mp4/movie", "dir.mp4/movie.mp4"),
        ("", "key with spaces/ünïcode", "key with spaces/ünïcode.mp4"),
        ("out", "movie", "out/movie.mp4"),
        ("out/", "movie.mp4", "out/movie.mp4"),
        ("/out/nested/", "a/movie", "out/nested/a/movie.mp4"),
        ("/", "movie", "movie.mp4"),
        ("", "..movie", "..movie.mp4"),  # dots inside a segment are fine
        ("", "a..b/c", "a..b/c.mp4"),
    ],
)
def test_output_key(prefix: str, output: str, expected: str) -> None:
    assert output_key(prefix, output, ".mp4") == expected


@pytest.mark.parametrize(
    "output",
    [
        "",
        "..",
        "../movie",
        "a/../../movie",
        "a/..",
        ".",
        "./movie",
        "a/./movie",
        "a//movie",
        "movie/",
        "/movie",
        "/etc/passwd",
        "a\\movie",
        "..\\..\\movie",
        "movie\x00",
        "mo\nvie",
        "movie\x7f",
        "m" * 1025,
        "é" * 513,
    ],
)
def test_output_key_rejects(output: str) -> None:
    with pytest.raises(ValueError):
        output_key("out", output, ".mp4")


def test_output_key_length_counts_prefix_and_extension() -> None:
    assert output_key("", "m" * 1020, ".mp4") == "m" * 1020 + ".mp4"
    with pytest.raises(ValueError):
        output_key("", "m" * 1021, ".mp4")
    with pytest.raises(ValueError):
        output_key("prefix", "m" * 1020, ".mp4")

"""The Plan's frame index through a presigned URL of the storage local mode runs (moto's S3): read from the moov."""

from pathlib import Path

from tests.integration.conftest import Aws
from transcoder import storage
from transcoder.locations import S3Location
from transcoder.media.keyframes import MOOV, probe_keyframes


def test_a_presigned_s3_url_is_indexed_from_the_moov_with_ffprobes_timestamps(aws: Aws, clip_720p: Path) -> None:
    aws.s3.upload_file(str(clip_720p), aws.work_bucket, "sources/clip.mp4")
    url = storage.presign(S3Location(aws.work_bucket, "sources/clip.mp4"), 300)
    index = probe_keyframes(url)
    assert index.read_from == MOOV
    reference = probe_keyframes(str(clip_720p), from_moov=False)
    assert (index.frames, index.audio_start) == (reference.frames, reference.audio_start)

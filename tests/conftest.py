"""Test-wide environment: dummy credentials, the handlers' settings, the static ffmpeg.

Set before any domain module is imported, because the pynamodb model reads its table
name at import time, as it does on Lambda.
"""

import os

from localmode.stack import static_ffmpeg

_FFMPEG, _FFPROBE = static_ffmpeg()
TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "transcoder",
    "POWERTOOLS_METRICS_NAMESPACE": "transcoder",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "TASK_TABLE": "test-tasks",
    "INPUT_BUCKET": "test-input",
    "OUTPUT_BUCKET": "test-output",
    "WORK_BUCKET": "test-work",
    "IDEMPOTENCY_TABLE": "test-idempotency",
    "TEMPLATE_TABLE": "test-templates",
    "KEYS_TABLE": "test-keys",
    "NONCE_TABLE": "test-nonces",
    "STORAGE_TABLE": "test-storages",
    "DEFAULT_TEMPLATE": "MP4_264_720p",
    "DROP_PREFIX": "drop/",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:test-pipeline",
    "FFMPEG_PATH": _FFMPEG,
    "FFPROBE_PATH": _FFPROBE,
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}
os.environ.update(TEST_ENVIRONMENT)
for _name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(_name, None)

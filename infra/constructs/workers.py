"""The pipeline's Lambda functions (Download, Plan, Transcode, EncodeChunk, EncodeAudio, Join, Upload,
RecordFailure) and the ffmpeg layer."""

import aws_cdk as cdk
import constructs
from aws_cdk import aws_lambda as lambda_

from infra.bundling import RUNTIME, ffmpeg_layer_code
from infra.constructs.access import (
    INPUT_READ_ACTIONS,
    allow_items,
    allow_listing,
    allow_named_bucket_objects,
    allow_objects,
    allow_storage_secrets,
)
from infra.constructs.functions import LAMBDA_ARCHITECTURES, ServiceFunction
from infra.constructs.storage import ACCOUNTS_PREFIX, Storage
from infra.settings import DeploymentSettings

_TASK_KEYS = "Each task's work files live under tasks/<task_id>/, known only at run time."
_INPUTS = "A task's input is any object of the input bucket, named by the user at run time."
_OUTPUTS = "A task's output key is named by the user at run time, under its account's part of the bucket."
WORK_PREFIX = "tasks/"  # transcoder.pipeline.work_prefix


class Workers(constructs.Construct):
    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        settings: DeploymentSettings,
        storage: Storage,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        self.ffmpeg_layer = lambda_.LayerVersion(
            self,
            "FfmpegLayer",
            code=ffmpeg_layer_code(settings.architecture),
            compatible_architectures=[LAMBDA_ARCHITECTURES[settings.architecture]],
            compatible_runtimes=[RUNTIME],
            license="GPL-3.0-or-later",
            description="Static ffmpeg and ffprobe (FFmpeg n8.1.2) in /opt/bin; licence in /opt/licenses/ffmpeg",
        )
        timeout = cdk.Duration.seconds(settings.step_timeout_seconds)

        def step(
            id: str, handler: str, *, memory_mb: int, ffmpeg: bool, disk: bool, disk_mib: int | None = None
        ) -> ServiceFunction:
            return ServiceFunction(
                self,
                id,
                settings=settings,
                handler=f"handlers.pipeline.{handler}",
                memory_mb=memory_mb,
                timeout=timeout,
                environment=environment,
                layers=[self.ffmpeg_layer] if ffmpeg else None,
                ephemeral_storage_mib=disk_mib or (settings.ephemeral_storage_mib if disk else 512),
            )

        self.download = step("Download", "download", memory_mb=settings.step_memory_mb, ffmpeg=True, disk=False)
        self.plan = step("Plan", "plan", memory_mb=settings.step_memory_mb, ffmpeg=True, disk=False)
        self.transcode = step("Transcode", "transcode", memory_mb=settings.transcode_memory_mb, ffmpeg=True, disk=True)
        # A chunk of a few seconds is small even in 4K: 2 GiB of /tmp holds its encoded output many times over.
        self.encode_chunk = step(
            "EncodeChunk", "encode_chunk", memory_mb=settings.chunk_memory_mb, ffmpeg=True, disk=True, disk_mib=2048
        )
        self.encode_audio = step(
            "EncodeAudio", "encode_audio", memory_mb=settings.step_memory_mb, ffmpeg=True, disk=True
        )
        # Join holds every chunk and the joined output in /tmp; copying streams needs little CPU.
        self.join = step("Join", "join", memory_mb=settings.join_memory_mb, ffmpeg=True, disk=True)
        self.upload = step("Upload", "upload", memory_mb=settings.step_memory_mb, ffmpeg=False, disk=False)
        self.record_failure = step(
            "RecordFailure", "record_failure", memory_mb=settings.step_memory_mb, ffmpeg=False, disk=False
        )
        self.steps = (
            self.download,
            self.plan,
            self.transcode,
            self.encode_chunk,
            self.encode_audio,
            self.join,
            self.upload,
            self.record_failure,
        )

        self.work_bucket = storage.work_bucket
        table = storage.task_table
        work, task_keys = storage.work_bucket, _TASK_KEYS
        for function in self.steps:
            allow_items(function.role, table, ["dynamodb:GetItem", "dynamodb:UpdateItem"])

        # The input's readers read it through a storage, Upload writes to one: its item, then its keys.
        input_readers = (self.download, self.plan, self.transcode, self.encode_chunk, self.encode_audio)
        for function in (*input_readers, self.upload):
            allow_items(function.role, storage.storage_table, ["dynamodb:GetItem"])
            allow_storage_secrets(
                function.role,
                ["secretsmanager:GetSecretValue"],
                reason="A task's storage is named at run time; its keys are the secret "
                "transcoder/storages/<account>/<storage_id>, read only, under that prefix only.",
            )

        # They read the input (the version Download pins), each step only the parts it needs.
        for reader in input_readers:
            allow_listing(reader.role, storage.input_bucket)
            allow_objects(reader.role, storage.input_bucket, INPUT_READ_ACTIONS, reason=_INPUTS)
            for name in settings.extra_input_buckets:
                allow_named_bucket_objects(reader.role, name, INPUT_READ_ACTIONS, reason=_INPUTS)
        # Download stages https:// inputs in the work bucket, then probes them there; Plan writes the chunk
        # items, the encoders their chunks and the audio, Join reads them and writes the output. Each clears the
        # task's work files when it is cancelled or deleted under it (a stopped execution runs no RecordFailure).
        work_actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        for stager in (*input_readers, self.join):
            allow_listing(stager.role, work)
            allow_objects(stager.role, work, work_actions, prefix=WORK_PREFIX, reason=task_keys)
        # Upload: copy the encoded output to the destination, then clear the task's work files; the output
        # is deleted again when the task was cancelled while it was copied.
        allow_listing(self.upload.role, work)
        allow_objects(self.upload.role, work, ["s3:GetObject", "s3:DeleteObject"], prefix=WORK_PREFIX, reason=task_keys)
        allow_objects(
            self.upload.role,
            storage.output_bucket,
            # DeleteObjectVersion: a cancelled task's output is removed as the version it wrote.
            ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            prefix=ACCOUNTS_PREFIX,
            reason=_OUTPUTS,
        )
        # RecordFailure: clear the work files of a failed task (the map's chunks and its results too).
        allow_listing(self.record_failure.role, work)
        allow_objects(self.record_failure.role, work, ["s3:DeleteObject"], prefix=WORK_PREFIX, reason=task_keys)

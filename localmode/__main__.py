"""`python -m localmode run|demo`: the service on this machine, against a local AWS emulator."""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from localmode.access import local_client
from localmode.media import generate_clip, probe_file
from localmode.ports import API_PORT_ENV, AWS_PORT_ENV, DEFAULT_API_PORT, DEFAULT_AWS_PORT
from localmode.settings import SETTINGS_ENV, SettingError, local_settings
from localmode.stack import LocalStack
from transcoder_client.local import ENV_STATE_FILE


def _ports(args: argparse.Namespace) -> tuple[int, int]:
    api_port = args.api_port or int(os.environ.get(API_PORT_ENV, DEFAULT_API_PORT))
    aws_port = args.aws_port or int(os.environ.get(AWS_PORT_ENV, DEFAULT_AWS_PORT))
    return api_port, aws_port


# Where `transcoder --local` and `transcoder keys --local` find the running local mode.
STATE_FILE = Path(__file__).resolve().parents[1] / ".cache" / "localmode.json"


def run(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    api_port, aws_port = _ports(args)
    print("Starting local mode (the CDK app's template, reused from .cache/synth/ when infra/, cdk.json and the")
    print("settings have not changed, else synthesized; then the AWS emulator)...", flush=True)
    if settings:
        print(f"  settings over cdk.json's: {json.dumps(settings)}", flush=True)
    stack = LocalStack(api_port=api_port, aws_port=aws_port, settings=settings).start()
    state_file = Path(args.ready_file) if args.ready_file else STATE_FILE
    _write_state(state_file, stack.describe())
    print(_banner(stack, state_file), flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    print("\nStopping local mode...", flush=True)
    stack.stop()
    state_file.unlink(missing_ok=True)
    return 0


def _write_state(path: Path, state: dict[str, object]) -> None:
    """Written whole, then renamed: a reader never sees half a file. It holds the local key's secret,
    so only this user may read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.touch(mode=0o600)
    partial.write_text(json.dumps(state))
    partial.replace(path)


def _banner(stack: LocalStack, state_file: Path) -> str:
    api, aws = stack.api_url, stack.aws_url
    key = stack.access_key
    # The exports are the README's variables: its commands run as written after pasting them.
    return f"""
Local mode is running (started in {stack.startup_seconds:.1f} s).
  HTTP API:          {api}
  web console:       {api}/   (sign in with the access key below)
  AWS endpoint:      {aws}   (S3, DynamoDB, Step Functions, SQS)
  input bucket:      {stack.input_bucket}
  output bucket:     {stack.output_bucket}
  access key:        {key.access_key.access_key_id} (account {key.access_key.account_id})
  secret key:        {key.secret_access_key}

In another terminal, in this checkout, paste (any AWS credentials work against the emulator):
  export AWS_ENDPOINT_URL={aws} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1
  export {ENV_STATE_FILE}={state_file.resolve()}
  export API={api} INPUT={stack.input_bucket} OUTPUT={stack.output_bucket}
  export AK={key.access_key.access_key_id} SK={key.secret_access_key}
then (README.md, "Local mode"):
  .venv/bin/aws s3 cp clip.mp4 s3://$INPUT/clip.mp4
  TASK=$(.venv/bin/transcoder --local create s3://$INPUT/clip.mp4 clips/clip-360p -t MP4_264_360p --wait -q)
  .venv/bin/transcoder --local download $TASK .
  .venv/bin/transcoder keys --local create --account acme      # a key for another account

Or drop a file under drop/: the next folder names the template, the rest is the output key.
  .venv/bin/aws s3 cp clip.mp4 s3://$INPUT/drop/MP4_264_360p/holiday/clip.mp4
  -> a task that writes s3://$OUTPUT/accounts/default/holiday/clip.mp4 (objkey holiday/clip.mp4)

Press Ctrl-C to stop."""


def demo(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    api_port, aws_port = _ports(args)
    print("== Starting local mode", flush=True)
    stack = LocalStack(api_port=api_port, aws_port=aws_port, log_level="WARNING", settings=settings).start()
    try:
        return _demo_job(stack, args.seconds)
    finally:
        stack.stop()
        print("== Local mode stopped", flush=True)


def _demo_job(stack: LocalStack, seconds: float) -> int:
    import boto3

    print(f"   API {stack.api_url}, AWS endpoint {stack.aws_url} (ready in {stack.startup_seconds:.1f} s)")
    with tempfile.TemporaryDirectory(prefix="transcoder-demo-") as workdir:
        source = generate_clip(os.path.join(workdir, "demo.mp4"), seconds=seconds)
        source_facts = probe_file(source)
        print(f"== Generated a {seconds:g} s 1280x720 H.264 + AAC clip: {source_facts.summary()}")
        key = "demo.mp4"  # top level: an input for create_task (a key under a folder would be a drop)
        boto3.client("s3", endpoint_url=stack.aws_url).upload_file(source, stack.input_bucket, key)
        print(f"== Uploaded to s3://{stack.input_bucket}/{key}")

        request = {
            "input": f"s3://{stack.input_bucket}/{key}",
            "output": "demo/demo-360p",
            "template_name": "MP4_264_360p",
        }
        client = local_client(stack.describe())
        print(f"== POST /api/create_task {json.dumps(request)}")
        created = client.request("POST", "/api/create_task", body=request).body  # the whole answer, to show it
        task_id = created["data"]["task_id"]
        print(f"   -> {json.dumps(created)}")

        started = time.monotonic()
        seen: list[str] = []

        def show(data: dict[str, object]) -> None:
            line = f"{data.get('status')} {data.get('progress')}%"
            if not seen or seen[-1] != line:
                seen.append(line)
                print(f"   {time.monotonic() - started:5.1f} s  {line}", flush=True)

        print(f"== Polling GET /api/query_task?task_id={task_id}")
        client.wait(task_id, show, interval=0.1, timeout=600)
        final = client.request("GET", "/api/query_task", params={"task_id": task_id}).body
        print("== Final query_task response:")
        print(json.dumps(final, indent=2))
        data = final["data"]
        if data["status"] != "success":
            print(f"!! task ended {data['status']}: {data['err_code']} {data['err_message']}")
            return 1

        output = os.path.join(workdir, "output.mp4")
        client.download(data, output)
        facts = probe_file(output)
        print(f"== ffprobe of the output: {json.dumps(facts.summary())}")
        checks = {
            "status is success, err_code 0": data["status"] == "success" and data["err_code"] == 0,
            "640x360": (facts.width, facts.height) == (640, 360),
            "H.264 video": facts.video_codec == "h264",
            "AAC audio": facts.audio_codec == "aac",
            "duration equals the source's (within one frame)": abs(facts.duration - source_facts.duration) <= 1 / 30,
        }
        for name, passed in checks.items():
            print(f"   [{'ok' if passed else 'FAILED'}] {name}")
        return 0 if all(checks.values()) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localmode", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("run", "start local mode and keep it running"), ("demo", "run one real video through it")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--api-port", type=int, help=f"default $TRANSCODER_API_PORT or {DEFAULT_API_PORT}")
        command.add_argument("--aws-port", type=int, help=f"default $TRANSCODER_AWS_PORT or {DEFAULT_AWS_PORT}")
        command.add_argument(
            "--context",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"a deployment setting (cdk.json's transcoder keys) over cdk.json's and ${SETTINGS_ENV}'s; repeatable",
        )
    commands.choices["run"].add_argument("--ready-file", help="write the URLs and names as JSON here once ready")
    commands.choices["demo"].add_argument("--seconds", type=float, default=10, help="length of the demo clip")
    args = parser.parse_args(argv)
    try:
        settings = local_settings(args.context)
    except SettingError as error:
        # Before any synth or server, in one line: usage's conventional exit code, no traceback.
        parser.exit(2, f"{parser.prog} {args.command}: error: {error}\n")
    return run(args, settings) if args.command == "run" else demo(args, settings)


if __name__ == "__main__":
    sys.exit(main())

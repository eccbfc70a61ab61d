"""Entry point of the CDK app: `cdk synth` / `cdk deploy`, or `python -m infra.app`."""

import json
import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.names import STACK_NAME
from infra.settings import DeploymentSettings
from infra.stack import TranscoderStack

CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The context of cdk.json: the CLI passes it to the app; a plain Python synth reads it here."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def cli_environment() -> cdk.Environment:
    """The account and region the CDK CLI binds the stack to (it always sets a region); none for a plain synth."""
    return cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION"))


def build_app(
    outdir: str | None = None, context: dict[str, Any] | None = None, env: cdk.Environment | None = None
) -> cdk.App:
    """The app with cdk.json's context, overridden key by key by `context` (settings merged too).

    `env` binds the stack to an account and region; by default, the CDK CLI's (`cli_environment`).
    """
    merged = cdk_json_context()
    for key, value in (context or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    # Under the CDK CLI, cdk.json and -c values arrive through the environment and win.
    app = cdk.App(outdir=outdir, context=merged if "CDK_CONTEXT_JSON" not in os.environ else context)
    settings = DeploymentSettings.from_context(app)
    TranscoderStack(
        app,
        STACK_NAME,
        settings=settings,
        description="Serverless video transcoding: API Gateway, Lambda, DynamoDB, Step Functions, static ffmpeg",
        env=env or cli_environment(),
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()

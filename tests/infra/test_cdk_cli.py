"""The pinned CDK CLI itself synthesizes the app, as `make deploy` runs it: bound to an account and region.

The CLI always binds the stack to a region (from AWS_REGION / AWS_DEFAULT_REGION or the profile, overriding
CDK_DEFAULT_REGION) and, given credentials, to the account; cdk-nag findings then name literal ARNs. No AWS
call is made: no credentials exist here, so the account comes from CDK_DEFAULT_ACCOUNT.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from infra.names import STACK_NAME

ROOT = Path(__file__).resolve().parents[2]
CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"
ACCOUNT, REGION = "123456789012", "eu-west-1"


@pytest.fixture(scope="module")
def cli() -> Path:
    assert CDK_CLI.exists(), "the pinned CDK CLI is not installed: run `make node_modules/.installed` (npm ci)"
    return CDK_CLI


def _cli_environment(tmp_path: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    return environment | {
        "CDK_DEFAULT_ACCOUNT": ACCOUNT,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # No profile, no instance metadata: the CLI finds no credentials at once and makes no AWS call.
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }


def test_the_installed_cli_is_the_pinned_one(cli: Path) -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"]["node_modules/aws-cdk"]["version"]
    installed = json.loads((ROOT / "node_modules" / "aws-cdk" / "package.json").read_text())["version"]
    assert pinned == locked == installed


def test_cdk_synth_bound_to_a_region(cli: Path, tmp_path: Path) -> None:
    """`cdk synth` with cdk.json's app command: what `cdk deploy` runs first, assets bundled, cdk-nag on."""
    outdir = tmp_path / "cdk.out"
    result = subprocess.run(
        [str(cli), "synth", "--quiet", "--no-notices", "--output", str(outdir)],
        cwd=ROOT,
        env=_cli_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    template = json.loads((outdir / f"{STACK_NAME}.template.json").read_text())
    assert template["Resources"]
    manifest = json.loads((outdir / "manifest.json").read_text())
    assert manifest["artifacts"][STACK_NAME]["environment"] == f"aws://{ACCOUNT}/{REGION}"
    report = json.loads((outdir / "validation-report.json").read_text())
    for plugin in report["pluginReports"]:
        assert (plugin["conclusion"], plugin["violations"]) == ("success", [])
    suppressed = {v["acknowledgedId"] for plugin in report["pluginReports"] for v in plugin["suppressedViolations"]}
    executions = f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:states:{REGION}:{ACCOUNT}:execution:"
    assert [v for v in suppressed if v.startswith(executions)], "findings were not named for the bound stack"
    assert list(outdir.glob("asset.*")), "the CLI bundled no asset"

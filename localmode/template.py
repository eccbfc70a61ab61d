"""Synthesize the CDK app and resolve its template's intrinsic functions to local values."""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.names import STACK_NAME
from infra.settings import CONTEXT_KEY
from localmode.settings import CDK_CONTEXT_ENV

ACCOUNT = "123456789012"
REGION = "us-east-1"
_PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": STACK_NAME,
    "AWS::NoValue": None,
}


_SYNTH = """
import json, sys
from infra.app import build_app
build_app(outdir=sys.argv[1], context={"aws:cdk:bundling-stacks": [], **json.loads(sys.argv[2])}).synth()
"""
ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = ROOT / ".cache" / "synth"
"""Synthesized templates by the hash of what determines them: a restart with the same inputs skips the synth."""
_APP_ENVIRONMENT = ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION", CDK_CONTEXT_ENV)
"""The variables infra.app reads."""


def synthesis_key(settings: Mapping[str, Any], root: Path = ROOT) -> str:
    """A hash of everything the synthesized template depends on, as local mode uses it.

    The CDK app's code (infra/), cdk.json, the locked library versions (uv.lock: aws-cdk-lib and cdk-nag shape
    the template), the settings local mode synthesizes with over cdk.json's (`settings`: $TRANSCODER_SETTINGS
    and --context, see localmode.settings), the variables the app reads and the synth script itself.
    functions/ and layers/ only feed the assets' hashes, which local mode never reads: it runs the handlers
    named by the template from the source, so editing a handler needs no new synth.
    """
    digest = hashlib.sha256(_SYNTH.encode())
    files = sorted(path for path in (root / "infra").rglob("*") if path.is_file())
    for path in [*files, root / "cdk.json", root / "uv.lock"]:
        if "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"(absent)")
        digest.update(b"\0")
    environment = {name: os.environ.get(name) for name in _APP_ENVIRONMENT}
    digest.update(json.dumps([_context(settings), environment], sort_keys=True).encode())
    return digest.hexdigest()


CACHE_KEEP = 4
"""Templates kept: the default settings' and a few others (the e2e tests start local mode with other settings)."""


def synthesize(settings: Mapping[str, Any], cache_dir: Path | None = CACHE_DIR) -> dict[str, Any]:
    """The stack's template with `settings` over cdk.json's: the cached one when its inputs have not changed
    (see synthesis_key), else a synth.

    `cache_dir=None` always synthesizes.
    """
    if cache_dir is None:
        return _synthesize(settings)
    cached = cache_dir / f"{synthesis_key(settings)}.template.json"
    try:
        template: dict[str, Any] = json.loads(cached.read_text())
        return template
    except FileNotFoundError:
        pass
    except ValueError:
        cached.unlink(missing_ok=True)  # not a whole JSON document: synthesize again
    template = _synthesize(settings)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Written whole, then renamed: a local mode starting at the same time never reads half a file.
    partial = cached.with_name(f"{cached.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(template))
    partial.replace(cached)
    by_age = sorted(cache_dir.glob("*.template.json"), key=lambda path: path.stat().st_mtime, reverse=True)
    for stale in by_age[CACHE_KEEP:]:
        stale.unlink(missing_ok=True)
    return template


def _context(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The CDK context local mode adds to cdk.json's (build_app merges the settings key by key)."""
    return {CONTEXT_KEY: dict(settings)} if settings else {}


def synth_environment(settings: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """The synth's environment: $CDK_CONTEXT_JSON (the CDK CLI's way in) wins over build_app's context key by
    key, so when it is set the settings join its `transcoder` key instead of being lost."""
    environment = {
        **environ,
        "PYTHONPATH": str(ROOT),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    if settings and CDK_CONTEXT_ENV in environ:
        context = json.loads(environ[CDK_CONTEXT_ENV])
        context[CONTEXT_KEY] = {**context.get(CONTEXT_KEY, {}), **settings}
        environment[CDK_CONTEXT_ENV] = json.dumps(context)
    return environment


def _synthesize(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The stack's template, synthesized without bundling assets (local mode runs the source).

    In a child process, so that CDK's node runtime does not live on beside local mode (and does
    not receive its Ctrl-C).
    """
    root = ROOT
    with tempfile.TemporaryDirectory(prefix="transcoder-synth-") as outdir:
        result = subprocess.run(
            [sys.executable, "-c", _SYNTH, outdir, json.dumps(_context(settings))],
            cwd=root,
            env=synth_environment(settings, os.environ),
            capture_output=True,
            text=True,
            start_new_session=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"cdk synth failed:\n{result.stderr[-4000:]}")
        template: dict[str, Any] = json.loads((Path(outdir) / f"{STACK_NAME}.template.json").read_text())
    return template


@dataclass
class LocalTemplate:
    """The template with a local physical name for every resource it declares."""

    template: dict[str, Any]
    endpoint_url: str = ""
    assigned_ids: dict[str, str] = field(default_factory=dict)
    """Ids the emulator chose itself (KMS key ids), by logical id."""
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    """Attributes the emulator learned when creating a resource ((table, "StreamArn")), for Fn::GetAtt."""

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def physical_name(self, logical_id: str) -> str:
        if logical_id in self.assigned_ids:
            return self.assigned_ids[logical_id]
        resource_type = self.resources[logical_id]["Type"]
        if resource_type == "AWS::S3::Bucket":
            # Bucket names: lower case, at most 63 characters.
            return re.sub(r"[^a-z0-9-]", "", f"{STACK_NAME}-{logical_id}".lower())[:63]
        return f"{STACK_NAME}-{logical_id}"[:64]

    def arn(self, logical_id: str) -> str:
        name = self.physical_name(logical_id)
        resource_type = self.resources[logical_id]["Type"]
        arns = {
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
            "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
            "AWS::KMS::Key": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{name}",
            "AWS::ECS::Cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}",
            "AWS::ECS::TaskDefinition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{name}:1",
        }
        if resource_type not in arns:
            raise KeyError(f"no local ARN for {resource_type} ({logical_id})")
        return arns[resource_type]

    def ref(self, logical_id: str) -> str:
        if logical_id in _PSEUDO:
            return str(_PSEUDO[logical_id])
        resource_type = self.resources[logical_id]["Type"]
        if resource_type in ("AWS::StepFunctions::StateMachine", "AWS::ECS::TaskDefinition"):
            return self.arn(logical_id)
        if resource_type == "AWS::SQS::Queue":
            return f"{self.endpoint_url}/{ACCOUNT}/{self.physical_name(logical_id)}"
        return self.physical_name(logical_id)

    def resolve(self, value: Any) -> Any:
        """Resolve Ref, Fn::GetAtt, Fn::Join and Fn::Sub recursively."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                logical_id, attribute = argument
                if (logical_id, attribute) in self.attributes:
                    return self.attributes[(logical_id, attribute)]
                if attribute == "Arn":
                    return self.arn(logical_id)
                if attribute in ("QueueName", "GroupId"):
                    return self.physical_name(logical_id)
                raise KeyError(f"unsupported attribute {attribute} of {logical_id}")
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(self.resolve(item)) for item in items)
            if key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub(m.group(1)), text)
        return {key: self.resolve(item) for key, item in value.items()}

    def _sub(self, name: str) -> str:
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return str(self.resolve({"Fn::GetAtt": [logical_id, attribute]}))
        return self.ref(name)

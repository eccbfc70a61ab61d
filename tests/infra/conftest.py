"""One synthesis of the real app per test session (jsii's first synth costs ~8 s).

`synthesized` is the default app (cdk.json's context), WITH asset bundling and the cdk-nag
AwsSolutions plugin, so the cloud assembly holds the real function and layer assets.
`synth_variant` synthesizes other settings cheaply: bundling is skipped there
(`aws:cdk:bundling-stacks: []`), which leaves the template's properties unchanged.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.app import build_app
from infra.constructs.nag import logical_id
from infra.names import STACK_NAME

FUNCTION = "AWS::Lambda::Function"
CDK_NOTIFICATIONS_HANDLER = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
"""CDK's singleton (at the stack's root) that writes a bucket's notification configuration at deploy time."""


CONSOLE_HANDLER = "handlers.console_site.handler"


@dataclass(frozen=True)
class Synthesized:
    app: cdk.App
    stack: cdk.Stack
    template: Template
    template_dict: dict[str, Any]
    outdir: Path

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        """Logical id → resource, for every resource of CloudFormation type `type_`."""
        return {k: r for k, r in self.template_dict["Resources"].items() if r["Type"] == type_}

    def logical_id(self, path: str) -> str:
        """The logical id of the construct at `path` under the stack (e.g. "Storage/Work")."""
        node: Any = self.stack
        for part in path.split("/"):
            node = node.node.find_child(part)
        return logical_id(node)

    def service_functions(self) -> dict[str, dict[str, Any]]:
        """Our functions: those whose code is an asset (the shared functions asset), not inline (Code.ZipFile).

        `cdk_inline_function` asserts that the only other function is CDK's BucketNotificationsHandler.
        """
        return {k: r for k, r in self.resources(FUNCTION).items() if "ZipFile" not in r["Properties"]["Code"]}

    def domain_functions(self) -> dict[str, dict[str, Any]]:
        """The service functions that run the domain code (the shared asset, the service's environment): all but
        the web console's, which serves static files from an asset of its own and needs no environment."""
        return {k: r for k, r in self.service_functions().items() if r["Properties"]["Handler"] != CONSOLE_HANDLER}

    def cdk_inline_function(self) -> tuple[str, dict[str, Any]]:
        """The one function that is not ours: CDK's BucketNotificationsHandler, with inline code."""
        others = {k: r for k, r in self.resources(FUNCTION).items() if k not in self.service_functions()}
        assert list(others) == [self.logical_id(CDK_NOTIFICATIONS_HANDLER)], f"unexpected functions: {sorted(others)}"
        ((logical_id, function),) = others.items()
        return logical_id, function

    def function_by_handler(self, handler: str) -> tuple[str, dict[str, Any]]:
        matches = [(k, r) for k, r in self.service_functions().items() if r["Properties"]["Handler"] == handler]
        assert len(matches) == 1, f"expected one function with handler {handler}, found {len(matches)}"
        return matches[0]

    def allowed(self, handler: str) -> dict[str, list[Any]]:
        """Action → resources that the role of the function with `handler` is allowed, besides X-Ray tracing.

        Every function traces (active tracing): its role has exactly TRACING, checked here and left out.
        """
        granted = self.granted(handler)
        assert {action: granted.pop(action, None) for action in TRACING} == TRACING, f"{handler} does not trace"
        return granted

    def granted(self, handler: str) -> dict[str, list[Any]]:
        """Action → resources that the role of the function with `handler` is allowed."""
        _, function = self.function_by_handler(handler)
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        allowed: dict[str, list[Any]] = {}
        for policy in self.resources("AWS::IAM::Policy").values():
            if {"Ref": role} not in policy["Properties"]["Roles"]:
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow", statement
                actions, resources = statement["Action"], statement["Resource"]
                actions = [actions] if isinstance(actions, str) else actions
                resources = resources if isinstance(resources, list) else [resources]
                for action in actions:
                    allowed.setdefault(action, []).extend(resources)
        return allowed


TRACING = {"xray:PutTelemetryRecords": ["*"], "xray:PutTraceSegments": ["*"]}
"""What active tracing grants every function's role (X-Ray's actions take no resource but `*`)."""

AGNOSTIC = cdk.Environment()
"""No account, no region: the plain Python synth of `make synth` and of local mode."""


def synthesize(outdir: Path, context: dict[str, Any] | None = None, env: cdk.Environment = AGNOSTIC) -> Synthesized:
    app = build_app(str(outdir), context, env)
    app.synth()  # runs the AwsSolutions checks: an unacknowledged finding raises here
    stack = app.node.find_child(STACK_NAME)
    assert isinstance(stack, cdk.Stack)
    template = Template.from_stack(stack)
    template_dict = json.loads((outdir / f"{STACK_NAME}.template.json").read_text())
    return Synthesized(app=app, stack=stack, template=template, template_dict=template_dict, outdir=outdir)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def synth_variant(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Synthesized]:
    """Synthesize the app with extra context (and bound to `env`), without bundling assets; memoized."""
    cache: dict[str, Synthesized] = {}

    def make(context: dict[str, Any], env: cdk.Environment = AGNOSTIC) -> Synthesized:
        key = json.dumps([context, env.account, env.region], sort_keys=True)
        if key not in cache:
            outdir = tmp_path_factory.mktemp("cdk.variant")
            cache[key] = synthesize(outdir, {"aws:cdk:bundling-stacks": [], **context}, env)
        return cache[key]

    return make

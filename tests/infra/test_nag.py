"""cdk-nag AwsSolutions: no unacknowledged finding, every acknowledgment with a reason, nag really on.

Where things land (aws-cdk-lib 2.275, cdk-nag 3.0.2):
- the plugin's report is `<outdir>/validation-report.json`. Acknowledgments made with the bare rule id
  (`AwsSolutions-S1`) silence the rule but are not listed there; the plugin-prefixed id that infra/ uses
  (`AwsSolutions::AwsSolutions-S1`) lists each as a suppressed violation with its reason: the audit trail.
- acknowledgments are construct metadata of type `cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY`
  (`aws:cdk:acknowledged-rules`), data `{"Annotation::<id>": reason}`, written to the stack's
  `additionalMetadataFile` (`Transcoder.metadata.json`), not to manifest.json or tree.json.
"""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

from infra.constructs.nag import acknowledge_resource, nag_reference
from infra.names import STACK_NAME
from tests.infra.conftest import AGNOSTIC, CDK_NOTIFICATIONS_HANDLER, Synthesized

INFRA = Path(__file__).resolve().parents[2] / "infra"
ACCOUNT = "123456789012"
# The CDK CLI binds the stack to its default region (and, given credentials, account): the rendering of
# partition, region and account in a finding changes with them.
BOUND = {
    "eu-west-1": cdk.Environment(account=ACCOUNT, region="eu-west-1"),
    "cn-north-1": cdk.Environment(account=ACCOUNT, region="cn-north-1"),  # partition aws-cn
    "us-gov-west-1": cdk.Environment(account=ACCOUNT, region="us-gov-west-1"),  # partition aws-us-gov
    "region-only": cdk.Environment(region="eu-west-1"),  # the CLI without credentials
}
# Settings whose grants bring acknowledgments of their own (a bucket outside the stack, by ARN).
WITH_EXTRA_BUCKET = {"transcoder": {"extra_input_buckets": ["media-archive"]}}

MIN_REASON = 20
# CDK's BucketNotificationsHandler is a singleton at the stack's root: its findings can only be acknowledged there.
CDK_HANDLER_ACKNOWLEDGMENTS = {
    (f"/{STACK_NAME}/{CDK_NOTIFICATIONS_HANDLER}", f"AwsSolutions::AwsSolutions-{rule}")
    for rule in ("IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",)
}


def _acknowledgments(synthesized: Synthesized) -> list[tuple[str, str, Any]]:
    """(construct path, rule id, reason) of every acknowledgment recorded in the cloud assembly."""
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    stack = manifest["artifacts"][STACK_NAME]
    metadata: dict[str, list[dict[str, Any]]] = dict(stack.get("metadata", {}))
    if "additionalMetadataFile" in stack:
        metadata.update(json.loads((synthesized.outdir / stack["additionalMetadataFile"]).read_text()))
    key = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    found = []
    for path, entries in metadata.items():
        for entry in entries:
            if entry["type"] == key:
                for rule, reason in entry["data"].items():
                    # aws-cdk-lib's own, for its template validation (e.g. a VPC flow log's camelCase
                    # DestinationOptions): not cdk-nag's, and not made by infra/.
                    if not rule.startswith("CloudFormation-Validate::"):
                        found.append((path, rule, reason))
    return found


def _assert_no_violation(synthesized: Synthesized) -> None:
    reports = sorted(synthesized.outdir.glob("*validation-report*.json"))
    assert [r.name for r in reports] == ["validation-report.json"]
    report = json.loads(reports[0].read_text())
    assert report["title"] == "Validation Report"
    for plugin in report["pluginReports"]:
        assert plugin["conclusion"] == "success", plugin
        assert plugin["violations"] == [], plugin["violations"]


def _assert_every_acknowledgment_used(synthesized: Synthesized) -> None:
    """No stale acknowledgment: each one recorded is used by at least one suppressed finding of the report."""
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    used = {
        (entry["acknowledgedAt"].strip("/"), entry["acknowledgedId"])
        for plugin in report["pluginReports"]
        for entry in plugin["suppressedViolations"]
    }
    recorded = {(path.strip("/"), rule) for path, rule, _ in _acknowledgments(synthesized)}
    assert recorded, "no acknowledgments found"
    assert recorded - used == set()


def test_validation_report_has_no_violation(synthesized: Synthesized) -> None:
    _assert_no_violation(synthesized)


@pytest.mark.parametrize("environment", ["agnostic", *BOUND])
def test_acknowledgments_match_findings_in_every_environment(
    synth_variant: Callable[..., Synthesized], environment: str
) -> None:
    """The stack bound to a region (what `cdk synth`/`cdk deploy` build) is as clean as the agnostic one."""
    variant = synth_variant(WITH_EXTRA_BUCKET, BOUND.get(environment, AGNOSTIC))  # raises on a violation
    _assert_no_violation(variant)
    _assert_every_acknowledgment_used(variant)
    if environment != "agnostic":
        rules = [rule for _, rule, _ in _acknowledgments(variant)]
        assert any(":eu-west-1:" in rule or ":cn-north-1:" in rule or ":us-gov-west-1:" in rule for rule in rules)


def test_no_acknowledgment_is_written_in_token_form() -> None:
    """`arn:<AWS::Partition>:…` names a finding only in an agnostic synth: findings are named by nag_reference."""
    written = [
        f"{path.relative_to(INFRA)}:{number}"
        for path in sorted(INFRA.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"AwsSolutions-IAM[45]\[.*<AWS::", line)
    ]
    assert written == []


def test_report_lists_every_suppression_with_its_reason(synthesized: Synthesized) -> None:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    (plugin,) = [r for r in report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert plugin["violations"] == []
    suppressed = plugin["suppressedViolations"]
    assert len(suppressed) >= 20, "the audit trail lost acknowledgments"
    for entry in suppressed:
        assert len(entry["reason"].strip()) >= MIN_REASON, entry["ruleName"]


def test_every_acknowledgment_has_a_reason(synthesized: Synthesized) -> None:
    acknowledgments = _acknowledgments(synthesized)
    assert len(acknowledgments) >= 20  # infra/ acknowledges 28 findings today
    for path, rule, reason in acknowledgments:
        assert re.sub(r"^(Annotation|AwsSolutions)::", "", rule).startswith("AwsSolutions-"), (path, rule)
        assert isinstance(reason, str) and len(reason.strip()) >= MIN_REASON, (path, rule, reason)


def test_no_blanket_acknowledgment(synthesized: Synthesized) -> None:
    """Wildcard findings are acknowledged resource by resource, and never at the stack or app level.

    The one exception: the acknowledgment on CDK's BucketNotificationsHandler, a direct child of the stack.
    """
    acknowledgments = _acknowledgments(synthesized)
    at_cdk_handler = {(path, rule) for path, rule, _ in acknowledgments if CDK_NOTIFICATIONS_HANDLER in path}
    assert at_cdk_handler == CDK_HANDLER_ACKNOWLEDGMENTS
    for path, rule, _ in acknowledgments:
        if (path, rule) in CDK_HANDLER_ACKNOWLEDGMENTS:
            continue
        assert path.count("/") >= 3, f"{rule} acknowledged too high up the tree, at {path}"
        if "IAM5" in rule or "IAM4" in rule:
            assert "[" in rule, f"{rule} at {path} acknowledges every finding of the rule"


def test_acknowledged_resources_exist(synthesized: Synthesized) -> None:
    """An acknowledgment naming a resource `<LogicalId.Arn>` that no longer exists is stale."""
    resources = synthesized.template_dict["Resources"]
    named = 0
    for path, rule, _ in _acknowledgments(synthesized):
        for logical_id in re.findall(r"<([A-Za-z0-9]+)\.Arn>", rule):
            named += 1
            assert logical_id in resources, f"{rule} at {path} names a resource that is not in the template"
    assert named >= 10


def _tiny_app(outdir: Path, acknowledge: tuple[str, ...]) -> cdk.App:
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "NagProbe")
    bucket = s3.CfnBucket(stack, "Plain")  # no encryption, no access logs, no TLS-only policy
    for rule in acknowledge:
        cdk.Validations.of(bucket).acknowledge(cdk.Acknowledgment(id=rule, reason="probe: acknowledged on purpose"))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


@pytest.mark.parametrize("acknowledge", [(), ("AwsSolutions-S1",)], ids=["none", "only-S1"])
def test_nag_fails_synth_on_an_unsafe_bucket(tmp_path: Path, acknowledge: tuple[str, ...]) -> None:
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        _tiny_app(tmp_path, acknowledge).synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["conclusion"] == "failure"
    rules = {v["ruleName"] for v in plugin["violations"]}
    assert "AwsSolutions-S10" in rules  # TLS only
    assert ("AwsSolutions-S1" in rules) == ("AwsSolutions-S1" not in acknowledge)


def test_bare_rule_ids_do_acknowledge(tmp_path: Path) -> None:
    """The bare id form infra/ uses really silences exactly the acknowledged rules."""
    _tiny_app(tmp_path, ("AwsSolutions-S1", "AwsSolutions-S10")).synth()


def test_every_acknowledgment_suppresses_a_real_finding(synthesized: Synthesized) -> None:
    _assert_every_acknowledgment_used(synthesized)


def _probe_resources(stack: cdk.Stack, role: iam.Role) -> list[str]:
    """One wildcard resource of each shape cdk-nag flattens: Join with Refs, Sub, GetAtt, ImportValue, other."""
    return [
        stack.format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name="probe/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        ),
        cdk.Fn.sub("arn:${AWS::Partition}:s3:::probe-${AWS::AccountId}/*"),
        f"{role.role_arn}/*",
        f"{cdk.Fn.import_value('ProbeTopicArn')}*",
        f"{cdk.Fn.select(1, cdk.Fn.split('/', role.role_arn))}:*",
    ]


@pytest.mark.parametrize("environment", ["agnostic", "eu-west-1", "cn-north-1"])
def test_nag_reference_names_findings_as_cdk_nag_does(tmp_path: Path, environment: str) -> None:
    """Each resource, acknowledged by its nag_reference, silences exactly cdk-nag's own finding for it."""

    def app(acknowledged: bool) -> tuple[cdk.App, list[str]]:
        app = cdk.App(outdir=str(tmp_path / str(acknowledged)))
        stack = cdk.Stack(app, "NagProbe", env=BOUND.get(environment, AGNOSTIC))
        role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        resources = _probe_resources(stack, role)
        role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=resources))
        if acknowledged:
            for resource in resources:
                acknowledge_resource(role, resource, "probe: acknowledged on purpose")
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
        return app, [nag_reference(role, resource) for resource in resources]

    unacknowledged, names = app(acknowledged=False)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        unacknowledged.synth()
    report = json.loads((tmp_path / "False" / "validation-report.json").read_text())
    findings = {v["ruleName"] for plugin in report["pluginReports"] for v in plugin["violations"]}
    assert findings == {f"AwsSolutions-IAM5[Resource::{name}]" for name in names}
    if environment != "agnostic":
        assert not [name for name in names if "<AWS::Region>" in name]

    acknowledged, _ = app(acknowledged=True)
    acknowledged.synth()
    report = json.loads((tmp_path / "True" / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["violations"] == []
    assert {entry["ruleName"] for entry in plugin["suppressedViolations"]} == findings

"""cdk-nag acknowledgments, always with the reason the finding is accepted.

A finding about a resource or a managed policy is named by the value as cdk-nag sees it: resolved in the
stack, intrinsic functions flattened. That rendering depends on the stack's environment: agnostic, an ARN
reads `arn:<AWS::Partition>:…:<AWS::Region>:…`; bound to a region (the CDK CLI always binds one), it reads
`arn:aws:…:eu-west-1:…`. So such acknowledgments are never written by hand: `acknowledge_resource` and
`acknowledge_managed_policy` name them from the very value that was granted, the way cdk-nag does.
"""

import json
from typing import Any

import aws_cdk as cdk
import constructs
from aws_cdk import aws_iam as iam


def acknowledge(scope: constructs.IConstruct, rule: str, reason: str) -> None:
    """Acknowledge a cdk-nag finding; the plugin-prefixed id puts it in the validation report's audit trail."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason))


def acknowledge_resource(scope: constructs.IConstruct, resource: str, reason: str) -> None:
    """Acknowledge AwsSolutions-IAM5 (a wildcard) for `resource`, exactly as granted to a policy under `scope`."""
    acknowledge(scope, f"AwsSolutions-IAM5[Resource::{nag_reference(scope, resource)}]", reason)


def acknowledge_managed_policy(scope: constructs.IConstruct, policy: iam.IManagedPolicy, reason: str) -> None:
    """Acknowledge AwsSolutions-IAM4 for an AWS managed policy attached to a role under `scope`."""
    acknowledge(scope, f"AwsSolutions-IAM4[Policy::{nag_reference(scope, policy.managed_policy_arn)}]", reason)


def nag_reference(scope: constructs.IConstruct, value: str) -> str:
    """`value` as cdk-nag 3 names it in a finding: resolved in the stack of `scope`, then flattened."""
    return _flatten(cdk.Stack.of(scope).resolve(value))


def _flatten(node: Any) -> str:
    """A port of cdk-nag 3.0.2's `flattenCfnReference` (lib/utils/flatten-cfn-reference.js), check for check."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if node.get("Fn::Join"):
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten(item) for item in items)
        if node.get("Fn::Sub"):
            return _flatten(node["Fn::Sub"])
        if node.get("Fn::GetAtt"):
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if node.get("Fn::ImportValue"):
            return _flatten(node["Fn::ImportValue"])
        if node.get("Ref"):
            return f"<{_flatten(node['Ref'])}>"
    # JavaScript's JSON.stringify: no spaces, non-ASCII kept as is.
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False)


def logical_id(element: constructs.IConstruct) -> str:
    cfn = element if isinstance(element, cdk.CfnElement) else element.node.default_child
    if not isinstance(cfn, cdk.CfnElement):
        raise TypeError(f"{element.node.path} has no CloudFormation resource")
    stack = cdk.Stack.of(cfn)
    return str(stack.resolve(stack.get_logical_id(cfn)))

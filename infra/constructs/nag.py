"""cdk-nag acknowledgments, always with the reason the finding is accepted."""

import aws_cdk as cdk
import constructs


def acknowledge(scope: constructs.IConstruct, rule: str, reason: str) -> None:
    """Acknowledge a cdk-nag finding; the plugin-prefixed id puts it in the validation report's audit trail."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason))


def logical_id(element: constructs.IConstruct) -> str:
    cfn = element if isinstance(element, cdk.CfnElement) else element.node.default_child
    if not isinstance(cfn, cdk.CfnElement):
        raise TypeError(f"{element.node.path} has no CloudFormation resource")
    stack = cdk.Stack.of(cfn)
    return str(stack.resolve(stack.get_logical_id(cfn)))

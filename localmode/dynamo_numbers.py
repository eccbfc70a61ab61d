"""DynamoDB's ADD on numbers of any notation, as DynamoDB does it.

moto 5.2.5 adds two numbers by reading each as an int unless its text has a "." (`DynamoType.__add__`), and
stores the sum as Python prints a Decimal: `8E-7` for a sum under 0.000001. The next ADD then reads `8E-7` as an
int and fails with a 500. DynamoDB takes numbers in any notation (boto3 itself sends small Decimals as `8E-7`).
A task's `cost` is such a sum of sub-cent charges (transcoder.charges), added by every step.
"""

from decimal import Decimal

from moto.dynamodb.models.dynamo_type import DDBType, DynamoType

_PATCHED = "reads_any_notation"


def add_numbers_in_any_notation() -> None:
    if getattr(DynamoType.__add__, _PATCHED, False):
        return
    original_add, original_sub = DynamoType.__add__, DynamoType.__sub__

    def add(self: DynamoType, other: DynamoType) -> DynamoType:
        if self.type == other.type == DDBType.NUMBER:
            return _number(Decimal(self.value) + Decimal(other.value))
        return original_add(self, other)

    def sub(self: DynamoType, other: DynamoType) -> DynamoType:
        if self.type == other.type == DDBType.NUMBER:
            return _number(Decimal(self.value) - Decimal(other.value))
        return original_sub(self, other)

    setattr(add, _PATCHED, True)
    DynamoType.__add__ = add  # type: ignore[method-assign]
    DynamoType.__sub__ = sub  # type: ignore[method-assign]


def _number(value: Decimal) -> DynamoType:
    """As DynamoDB answers a number: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return DynamoType({DDBType.NUMBER: text})

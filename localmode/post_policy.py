"""S3's POST policy checks, which moto's server does not make (5.2.5 stores any form POST as it comes).

create_upload's form is only as safe as S3's checks of it: the signature over the policy, its expiry, and
each condition (exact key and Content-Type, content-length-range), and no form field the policy does not
name. Local mode checks them here, as S3 documents them (Amazon S3 API Reference, "Creating a POST policy"
and "Authenticating Requests in Browser-Based Uploads Using POST (AWS Signature Version 4)"), so a local
user is refused exactly what AWS would refuse. Only form POSTs that upload an object are checked; every
other request goes to moto unchanged.
"""

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from moto.s3.responses import S3Response

SecretOf = Callable[[str], str | None]
"""The secret access key of an access key id; None for an unknown one."""

_UNSIGNED_FIELDS = {"file", "policy", "x-amz-signature"}
"""Form fields a policy does not (and cannot) name; `x-ignore-*` fields are skipped as well."""


class PolicyRefusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def check_post(form: Mapping[str, str], *, bucket: str, file_size: int, secret_of: SecretOf, now: float) -> None:
    """Raise PolicyRefusal unless S3 would accept this POST upload (form fields without the file)."""
    fields = {name.lower(): value for name, value in form.items()}
    if "policy" not in fields:
        raise PolicyRefusal(403, "AccessDenied", "Bucket POST must contain a field named 'policy'")
    _check_signature(fields, secret_of)
    try:
        policy = json.loads(base64.b64decode(fields["policy"], validate=True))
        expiration = datetime.fromisoformat(str(policy["expiration"]).replace("Z", "+00:00")).timestamp()
        conditions = list(policy["conditions"])
    except (ValueError, KeyError, TypeError) as exc:
        raise PolicyRefusal(400, "InvalidPolicyDocument", f"Invalid Policy: {exc}") from exc
    if now > expiration:
        raise PolicyRefusal(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    fields["bucket"] = bucket  # S3 matches `$bucket` against the bucket the form is POSTed to
    named = {"bucket"}
    for condition in conditions:
        named.add(_check_condition(condition, fields, file_size))
    unsigned = {name for name in fields if name in _UNSIGNED_FIELDS or name.startswith("x-ignore-")}
    extra = sorted(set(fields) - named - unsigned)
    if extra:
        raise PolicyRefusal(403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")


def _check_signature(fields: dict[str, str], secret_of: SecretOf) -> None:
    if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
        raise PolicyRefusal(400, "InvalidArgument", "x-amz-algorithm must be AWS4-HMAC-SHA256")
    try:
        access_key_id, date, region, service, terminal = fields["x-amz-credential"].split("/")
    except (KeyError, ValueError) as exc:
        raise PolicyRefusal(400, "InvalidArgument", "malformed x-amz-credential") from exc
    secret = secret_of(access_key_id)
    if secret is None or terminal != "aws4_request":
        raise PolicyRefusal(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist.")
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, terminal):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, fields["policy"].encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields.get("x-amz-signature", "")):
        raise PolicyRefusal(403, "SignatureDoesNotMatch", "The request signature we calculated does not match.")


def _check_condition(condition: Any, fields: dict[str, str], file_size: int) -> str:
    """Check one condition; the field it names."""
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, value),) = condition.items()
        return _match("eq", str(name), str(value), fields)
    if isinstance(condition, list) and len(condition) == 3:
        operator, subject, value = condition
        operator = str(operator).lower()
        if operator == "content-length-range":
            if file_size < int(subject):
                raise PolicyRefusal(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum size")
            if file_size > int(value):
                raise PolicyRefusal(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
            return "content-length-range"
        if operator in ("eq", "starts-with") and str(subject).startswith("$"):
            return _match(operator, str(subject)[1:], str(value), fields)
    raise PolicyRefusal(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {json.dumps(condition)}")


def _match(operator: str, name: str, value: str, fields: dict[str, str]) -> str:
    """Field names match whatever their case (S3's rule); the condition is quoted as written."""
    given = fields.get(name.lower())
    matches = given is not None and (given == value if operator == "eq" else given.startswith(value))
    if not matches:
        condition = json.dumps([operator, f"${name}", value])
        raise PolicyRefusal(403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {condition}")
    return name.lower()


def _error_body(refusal: PolicyRefusal) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{refusal.code}</Code><Message>{escape(refusal.message)}</Message></Error>"
    )


def process_credentials(access_key_id: str) -> str | None:
    """The secret of the credentials this process signs with (local mode's, or a test's): the API function's."""
    if access_key_id and access_key_id == os.environ.get("AWS_ACCESS_KEY_ID"):
        return os.environ.get("AWS_SECRET_ACCESS_KEY")
    return None


def enforce_post_policies(secret_of: SecretOf = process_credentials) -> None:
    """Make moto's server check every object-upload form POST as S3 does (idempotent)."""
    original = S3Response._bucket_response_post
    if getattr(original, "checks_policy", False):
        return

    def bucket_response_post(self: S3Response, request: Any, bucket_name: str) -> Any:
        # An object upload is a form with a `key` field; DeleteObjects and the rest are not forms.
        if "key" in self.form_data:
            try:
                check_post(
                    self.form_data,
                    bucket=bucket_name,
                    file_size=len(self.raw_body or b""),
                    secret_of=secret_of,
                    now=time.time(),
                )
            except PolicyRefusal as refusal:
                return refusal.status, {"Content-Type": "application/xml"}, _error_body(refusal)
        return original(self, request, bucket_name)

    bucket_response_post.checks_policy = True  # type: ignore[attr-defined]
    S3Response._bucket_response_post = bucket_response_post  # type: ignore[method-assign]

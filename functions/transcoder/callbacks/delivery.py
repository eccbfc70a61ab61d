"""One signed POST to a callback URL, with the SSRF rules of transcoder.fetch.

The URL is checked, every address its host resolves to must be allowed, the connection goes to the
checked address with TLS verified against the host's name, and redirects are not followed: a POST is
never re-sent somewhere the receiver's answer points to.
"""

from dataclasses import dataclass

import urllib3

from transcoder import fetch
from transcoder.errors import InputNotFound

_TIMEOUT = urllib3.Timeout(connect=5, read=10)
"""Short: a receiver that needs longer should queue the work and answer at once."""


class Refused(Exception):
    """The URL may never be sent to (scheme, credentials, a non-public address)."""


class NotDelivered(Exception):
    """This attempt failed and another may succeed (no answer, a non-2xx status, an unresolved name, bad TLS)."""


@dataclass(frozen=True)
class Delivered:
    status: int


def post(url: str, body: bytes, headers: dict[str, str]) -> Delivered:
    try:
        host, port, path = fetch.check_url(url, subject="callback")
        address = fetch.resolve(host, port, subject="callback")
    except fetch.RefusedInput as exc:
        raise Refused(str(exc)) from exc
    except InputNotFound as exc:  # the name does not resolve (now)
        raise NotDelivered(str(exc)) from exc
    pool = fetch.pinned_pool(host, port, address, _TIMEOUT)
    try:
        response = pool.urlopen(
            "POST", path, body=body, headers={**headers, "Host": fetch.host_header(host, port)}, redirect=False
        )
    except urllib3.exceptions.SSLError as exc:
        # Nothing was sent (the handshake failed first), and a receiver may fix its certificate: try again later.
        raise NotDelivered(f"callback host {host!r}: TLS certificate not trusted") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise NotDelivered(f"callback host {host!r} is not reachable") from exc
    finally:
        pool.close()
    if not 200 <= response.status < 300:
        raise NotDelivered(f"callback URL answered HTTP {response.status}")
    return Delivered(response.status)

"""The twin's simple login: users and password hashes come from ``settings.app_users``.

Set ``TWIN_APP_USERS='{"wang": "pbkdf2_sha256$200000$<salt>$<hash>"}'``; make a hash with
``python -m twin.services.app_users <password>``. PBKDF2 from the standard library
(``hashlib.pbkdf2_hmac``) keeps this dependency-free; it is a gate for the engineer's
actions in a trusted network, not an identity provider.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sys

from twin.settings import Settings

ITERATIONS = 200_000


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`` of ``password``."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def verify(settings: Settings, user: str, password: str) -> bool:
    """True when ``user`` is configured and ``password`` matches its hash."""
    stored = settings.app_users.get(user.strip())
    if not stored:
        return False
    try:
        algo, iters, salt_hex, hash_hex = stored.split("$")
    except ValueError:
        return False
    if algo != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt_hex), int(iters))
    return hmac.compare_digest(digest.hex(), hash_hex)


if __name__ == "__main__":  # pragma: no cover - helper for operators
    print(hash_password(sys.argv[1]))

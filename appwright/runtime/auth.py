"""Passwords, sign-in throttling and the signup rule, for the runtime's auth routes.

- Passwords are hashed with Argon2id (argon2-cffi's defaults); plain text never
  reaches the database.
- An unknown email and a wrong password get the same answer, and an unknown
  email still costs one hash check, so neither the message nor the timing says
  which accounts exist.
- After `MAX_FAILURES_PER_EMAIL` failed sign-ins for one email (or
  `MAX_FAILURES_PER_CLIENT` from one client address) within `WINDOW`, sign-in
  answers 429 until the window passes. Failures are stored in the app's
  database, so a restart does not reset them.
- Emails are ASCII (no control characters, no look-alike letters) and never at `.invalid`,
  which is reserved for the platform's own identities (`RESERVED_DOMAIN`).
- `signup_allowed` is the only place that decides whether a new user may be
  created; every route that creates a user goes through it.

Not done: email verification, password reset by email, two-factor sign-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from appwright.runtime.storage import AppStore, User

MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_CLIENT = 30
WINDOW = timedelta(minutes=15)
# ASCII only: a local part of RFC 5322's unquoted characters, a domain of letter-digit-hyphen
# labels (an international domain in its xn-- form). No control characters, no look-alike letters
# (a Cyrillic "а" in "аda@example.com"), so two addresses that read the same are the same address.
EMAIL_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@"
                      r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,61}[A-Za-z0-9]")
# Addresses at .invalid (RFC 2606: never a real mailbox) are the platform's own identities, such as
# the studio's owner account in each app (studio/preview.py). Nobody may sign up or sign in as one,
# so nobody can register one before the platform makes it.
RESERVED_DOMAIN = ".invalid"

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("appwright-no-such-user")


class AuthError(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None):
        self.status, self.message, self.retry_after = status, message, retry_after
        super().__init__(message)


def check_credentials_shape(email: object, password: object) -> tuple[str, str]:
    """Normalise the email; reject malformed input with a clear 400."""
    if not isinstance(email, str) or len(email) > 254 or not EMAIL_RE.fullmatch(email.strip()):
        raise AuthError(400, "email: expected an email address like ada@example.com (ASCII letters; an "
                             "international domain in its xn-- form)")
    if not isinstance(password, str):
        raise AuthError(400, "password: expected text")
    email = email.strip().lower()
    if email.endswith(RESERVED_DOMAIN):
        raise AuthError(400, f"email: addresses at {RESERVED_DOMAIN} are reserved for the platform; use your own")
    return email, password


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(400, f"password: too short; use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AuthError(400, f"password: too long; at most {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Constant work whether or not the user exists."""
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Throttle:
    """Each sign-in attempt is recorded as a failure before the password is checked
    and released if it succeeds, so parallel guesses count as much as serial ones."""
    store: AppStore

    def begin(self, email: str, client: str) -> list[int]:
        """Reserve one attempt; AuthError 429 when the email or the client is at its limit."""
        limits = {f"email:{email}": MAX_FAILURES_PER_EMAIL, f"client:{client}": MAX_FAILURES_PER_CLIENT}
        attempt = self.store.reserve_attempt(limits, datetime.now(timezone.utc) - WINDOW)
        if attempt is None:
            minutes = int(WINDOW.total_seconds() // 60)
            raise AuthError(429, f"too many failed sign-ins; try again in {minutes} minutes",
                            retry_after=int(WINDOW.total_seconds()))
        return attempt

    def succeeded(self, email: str, attempt: list[int]) -> None:
        """A right password clears the account's failures and does not count against the client."""
        self.store.release_attempt(attempt)
        self.store.clear_failures(f"email:{email}")


def signup_allowed(rule: str, *, invite: object, by_admin: bool, store: AppStore) -> None:
    """Raise AuthError unless a new user may be created under the app's signup rule.

    `by_admin`: an admin is adding the user (allowed under every rule)."""
    if by_admin:
        return
    if rule == "open":
        return
    if rule == "closed":
        raise AuthError(403, "signup is closed for this app; ask an admin to add you")
    if not isinstance(invite, str) or not invite:
        raise AuthError(403, "this app is invite-only; signing up needs an invite code from an admin")
    if not store.invite_is_open(invite):
        raise AuthError(403, "invite: this code is unknown or already used")

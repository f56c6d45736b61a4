"""Studio people: passwords, sessions and CSRF tokens.

- Passwords: Argon2id (argon2-cffi). An unknown email still costs one hash check, and both
  mistakes get the same message, so sign-in says nothing about which accounts exist.
- Sessions: a random token in the HttpOnly, SameSite=Lax cookie `aw_studio`; only its
  sha256 is stored (studio_sessions), so a copy of the database signs nobody in.
- CSRF: every state-changing request carries a token derived from the cookie it comes with
  (sha256 of "csrf:" + the cookie value): form posts in the field `csrf`, JavaScript
  requests in the header `X-CSRF-Token`. Signed-out forms (sign-in, sign-up) are tied the
  same way to a random pre-session cookie `aw_studio_pre`. A page on another origin can
  read neither cookie nor token. On top of that `app.py` refuses any unsafe request whose
  Origin is not the studio's or whose Sec-Fetch-Site says it came from another origin.

Not done: email verification, password reset, sign-in throttling (each attempt costs one
Argon2 hash, about 50 ms).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from appwright.runtime.auth import AuthError, check_credentials_shape, check_new_password
from appwright.studio.db import Database, Person, StudioSession

SESSION_COOKIE = "aw_studio"
PRE_COOKIE = "aw_studio_pre"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("appwright-studio-no-such-person")


class SignInError(Exception):
    """A sign-up or sign-in the person can correct; the message is shown on the form."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(cookie_value: str) -> str:
    return hashlib.sha256(b"csrf:" + cookie_value.encode()).hexdigest()


def csrf_ok(cookie_value: str | None, sent: str | None) -> bool:
    return bool(cookie_value and sent) and hmac.compare_digest(csrf_token(cookie_value), sent)


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)  # SQLite hands back naive datetimes


def sign_up(db: Database, email: str, password: str) -> Person:
    try:
        email, password = check_credentials_shape(email, password)
        check_new_password(password)
    except AuthError as exc:
        raise SignInError(exc.message) from None
    hashed = _hasher.hash(password)
    taken = SignInError("an account with this email already exists; sign in instead")
    try:
        with db.session() as s:
            if s.scalar(select(Person.id).where(Person.email == email)):
                raise taken
            person = Person(email=email, password_hash=hashed)
            s.add(person)
    except IntegrityError:  # the same email signed up a moment ago
        raise taken from None
    return person


def sign_in(db: Database, email: str, password: str) -> Person:
    wrong = SignInError("wrong email or password")
    try:
        email, password = check_credentials_shape(email, password)
    except AuthError:
        raise wrong from None
    with db.session() as s:
        person = s.scalar(select(Person).where(Person.email == email))
    try:
        _hasher.verify(person.password_hash if person else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise wrong from None
    if person is None:
        raise wrong
    return person


def start_session(db: Database, person: Person, days: int) -> str:
    """A new session for `person`; returns the cookie value (the only copy of the token)."""
    token = secrets.token_urlsafe(32)
    with db.session() as s:
        s.add(StudioSession(token_hash=token_hash(token), person_id=person.id,
                            expires_at=datetime.now(timezone.utc) + timedelta(days=days)))
    return token


def person_for(db: Database, token: str | None) -> Person | None:
    if not token:
        return None
    with db.session() as s:
        row = s.get(StudioSession, token_hash(token))
        if row is None:
            return None
        if _utc(row.expires_at) < datetime.now(timezone.utc):
            s.delete(row)
            return None
        return s.get(Person, row.person_id)


def end_session(db: Database, token: str | None) -> None:
    if token:
        with db.session() as s:
            s.execute(delete(StudioSession).where(StudioSession.token_hash == token_hash(token)))

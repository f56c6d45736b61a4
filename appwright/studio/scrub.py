"""Scrubbing personal data and secrets out of what the studio exports.

    scrub_text("mail ada@example.com or call +44 20 7946 0958")   # "mail <email> or call <phone>"
    scrub({"prompt": "...", "files": {...}}, counts)              # any JSON-like value; counts: a Counter

Replaced, with fixed placeholders (the same for every match, so a scrubbed file stays stable
between exports):
- `<secret>`: every pattern of the graders' secret scan (tasks/graders/security.py
  SECRET_PATTERNS: Stripe, OpenAI, AWS, GitHub, Slack and Google keys, PEM private keys, long
  literals assigned to `api_key`, `secret`, `token` or `password`); for an assignment only the
  value goes, so `api_key = "<secret>"` still reads as code;
- `<email>`: addresses with a dotted domain ending in letters (`logo@2x.png` and `pkg@1.2.3`
  are not addresses);
- `<phone>`: `+` and a country code with 8 to 15 digits in all, North American `(415)
  555-2671` / `415-555-2671` / `415.555.2671`, and national numbers that start with 0 and have
  9 to 11 digits in groups (`020 7946 0958`, `06 12 34 56 78`).

Left alone on purpose, because code and logs are full of them: CSS colours (`#ffffff`),
versions (`1.2.3`, `10.0.19045`), ISO dates and times, UUIDs, IP addresses, ports, and runs of
digits without separators (a numeric id and an unformatted phone number look the same, so a
phone written as `4155552671` is not caught), card numbers, postal addresses and names.
Dict keys are scrubbed like values. Secrets the patterns cannot know (an app's preview key)
are passed in as `known`.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from appwright.tasks.graders.security import SECRET_PATTERNS

SECRET, EMAIL, PHONE = "<secret>", "<email>", "<phone>"

FILE_SUFFIXES = "png|jpe?g|gif|svg|webp|avif|ico|css|js|mjs|html?|json|woff2?|ttf|txt|md"
EMAIL_RE = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    rf"(?!(?:{FILE_SUFFIXES})\b)[A-Za-z]{{2,24}}\b")
PHONE_RE = re.compile(r"""
    (?:
      (?<![\w+])\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,4}){2,6}   # +44 20 7946 0958, +1 (415) 555-2671
    | (?<![\w#./-])\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}                       # (415) 555-2671
    | (?<![\w#./-])\d{3}([ .-])\d{3}\1\d{4}                             # 415-555-2671, 415.555.2671
    | (?<![\w#./-])0\d{1,4}(?:[ .-]\d{2,4}){2,4}                        # 020 7946 0958, 06 12 34 56 78
    )
    (?![\w]|[.:/-]\d)                                                  # not the head of a longer number
""", re.X)


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _phone(m: re.Match, counts: Counter) -> str:
    text = m.group(0)
    n = _digits(text)
    ok = 8 <= n <= 15 if text.startswith("+") else (9 <= n <= 11 if text.startswith("0") else n == 10)
    if not ok:
        return text
    counts["phone"] += 1
    return PHONE


def _secret(m: re.Match, counts: Counter) -> str:
    counts["secret"] += 1
    if "value" in m.re.groupindex and m.group("value") is not None:
        start, end = m.span("value")
        whole = m.group(0)
        return whole[: start - m.start()] + SECRET + whole[end - m.start():]
    return SECRET


def scrub_text(text: str, counts: Counter | None = None, known: tuple[str, ...] = ()) -> str:
    """`text` with secrets, emails and phone numbers replaced by placeholders; `counts` (if
    given) gains one per replacement under "secret", "email" and "phone". `known`: exact
    strings that are secret wherever they appear (an app's preview key), replaced first."""
    counts = Counter() if counts is None else counts
    for value in known:
        if value and value in text:
            counts["secret"] += text.count(value)
            text = text.replace(value, SECRET)
    # Secrets first: a key may hold an @ or a run of digits that would otherwise be taken apart.
    for _, pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda m: _secret(m, counts), text)

    def email(m: re.Match) -> str:
        counts["email"] += 1
        return EMAIL
    text = EMAIL_RE.sub(email, text)
    return PHONE_RE.sub(lambda m: _phone(m, counts), text)


def scrub(value: Any, counts: Counter | None = None, known: tuple[str, ...] = ()) -> Any:
    """Every string in a JSON-like value (dicts, lists, tuples; keys too) scrubbed; other values
    as they are. Pydantic records: scrub their `model_dump(mode="json")` and validate it back."""
    if isinstance(value, str):
        return scrub_text(value, counts, known)
    if isinstance(value, dict):
        return {scrub(k, counts, known): scrub(v, counts, known) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, counts, known) for v in value]
    return value

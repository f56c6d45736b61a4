"""Requests the platform cannot build, answered in words before any model call.

    why = out_of_scope(prompt, english_only=english_only(spec))   # None, or what to tell the person

Asked for what the runtime does not have, a small model still writes an app: a "Pay" button
that posts a card number into a string field, an `<input type="file">` whose file goes
nowhere. The person gets a broken version and no reason. Asked in another language, the
0.5B answers in English about something else (its prompt, the docs and the task bank are
English). Both get a sentence that says why and what to ask instead, and no version.

What the runtime cannot do (docs/runtime.md, "What it does not do"): take payments, store
uploaded files, send email or text messages. Each is a pattern of words that ask for the
feature, not words that merely name it: "record the payments I make" and "an email field"
are fine; "take payments by card", "upload a photo" and "send an email to" are not.
tests/test_scope.py holds every prompt of the task bank to none of them.

Another language (`english_only`, for models that only know English: the embedded ones):
a request mostly in a non-Latin script, or whose common short words are those of Spanish,
French, German, Italian, Portuguese or Dutch rather than English.

Not done: other unsupported features (real-time video, maps, calling outside APIs) are
left to the model; a language check for languages other than those six written in Latin
script.
"""

from __future__ import annotations

import re

from appwright.models.registry import ModelSpec

_FEATURES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("take payments (there is no payment provider in the runtime)", re.compile(
        r"\b(?:take|takes|taking|accept|accepts|accepting|process|processing|collect|charge|charges|charging|receive)"
        r"\s+(?:online\s+|card\s+|credit[- ]card\s+)?payments?\b|\bpay\s+(?:online|by\s+card|with\s+(?:a\s+)?card)\b"
        r"|\b(?:stripe|paypal|apple\s+pay|google\s+pay)\b|\bcredit[- ]card\s+(?:payments?|checkout|details|numbers?)\b"
        r"|\bcheckout\s+(?:page|with|and\s+pay)\b", re.I)),
    ("store uploaded files (records hold text, numbers, dates and links; a picture can be a link)", re.compile(
        r"\bupload(?:s|ed|ing)?\b|\battach(?:es|ed|ing)?\s+(?:a\s+|an\s+|the\s+|their\s+|my\s+)?"
        r"(?:files?|photos?|pictures?|images?|documents?|pdfs?)\b|\bfile\s+(?:uploads?|attachments?)\b", re.I)),
    ("send email or text messages (the runtime has no mail or SMS sender)", re.compile(
        r"\b(?:send|sends|sending|sent)\s+(?:\w+\s+){0,3}?(?:e-?mails?|sms|text\s+messages?|texts)\b"
        r"|\b(?:e-?mail|sms|text)\s+(?:notifications?|reminders?|alerts?)\b"
        r"|\be-?mails?\s+(?:me|them|users?|people|guests?|customers?|members?)\s+(?:when|about|every|a\s+reminder)\b",
        re.I)),
)

# Short words that say which language a sentence is in. Words shared with English ("a", "in",
# "die", "son", "me") are left out of the others.
_ENGLISH = frozenset("""the and of to for with my our your their that this which who where when what each every
is are be can should will want would i we you it its from by on at as or not all only""".split())
_OTHER = frozenset("""el la los las del que y una un para con mis mi por donde cada quiero puedo es son
le les des et une pour avec mes où qui dans je veux chaque est sont du au aux
der das und ein eine für mit meine ich ist sind wo jede jeder zu auf nicht möchte
il gli della che ogni sono voglio
os uma meus não onde quero são
het een en voor mijn waar elke wil niet""".split())
_WORD = re.compile(r"[^\W\d_]+", re.U)


def _latin(ch: str) -> bool:
    return ch.isascii() or "\u00c0" <= ch <= "\u024f"


def not_english(prompt: str) -> bool:
    letters = [c for c in prompt if c.isalpha()]
    if letters and sum(not _latin(c) for c in letters) > 0.3 * len(letters):
        return True
    words = [w.lower() for w in _WORD.findall(prompt)]
    english = sum(w in _ENGLISH for w in words)
    other = sum(w in _OTHER for w in words)
    return other >= 2 and other > english


def english_only(spec: ModelSpec) -> bool:
    """Models served from a file here (the embedded Qwens, models trained from them) were asked and
    trained in English only; a frontier model behind an API reads other languages."""
    return spec.backend != "openai"


def out_of_scope(prompt: str, english_only: bool = False) -> str | None:
    """What to tell the person when the request asks for something the platform cannot build."""
    if english_only and not_english(prompt):
        return ("the embedded model understands requests in English only: write the request in English "
                "(the app's own text can still be in any language)")
    cannot = [what for what, pattern in _FEATURES if pattern.search(prompt)]
    if cannot:
        return (f"Appwright apps cannot {' or '.join(cannot)}. Ask for the app without it: "
                "nothing was built")
    return None

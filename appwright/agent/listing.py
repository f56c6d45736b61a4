"""The list a request asks for, put into the page's `aw.ui.records` calls: its order, its menu
to pick records by, its total and its search box.

    files, fixes = fit_order(files, manifest, request)   # files: path -> text of the answer
    files, more = fit_filter(files, manifest, request)
    files, most = fit_total(files, manifest, request)
    files, last = fit_search(files, manifest, request)

Seen from our 0.5B on requests in people's words: it picks the field and drops the direction
("Heaviest at the top" -> `sort: "weight"`, lightest first; "Best rated first" -> `sort: "rating"`),
sorts by another field ("Latest first" -> `sort: "minutes"`), or leaves the order out.

The request's order is its one sentence that has a cue of order ("first", "at the top", "on top",
"order", "sort", "A to Z", "alphabetical"; not "at the bottom", which turns the words round) and words
of one direction:
- dates: "latest", "newest", "most recent" (last first); "oldest", "earliest", "soonest" (first first);
- sizes: "highest", "most", "biggest", "longest", "heaviest", "best", "priciest", "most expensive"
  (largest first); "lowest", "fewest", "shortest", "lightest", "cheapest", "quickest" (smallest first);
- names: "A to Z", "alphabetical" (and "Z to A").
Its field is the one the sentence names in backticks (`day`); else the field the page sorts by now,
when it is of the direction's kind; else the one whose name the sentence says ("by title", "highest
systolic"); else the one named like the size word's quantity ("cheapest": a price, cost, rent or
fee; "heaviest": a weight; "longest": minutes or hours; "best": a rating); else the only field of
the kind: date, number, or required text for names (`created_at` for dates where there is no date
field). A sentence that names two fields, mixes directions, or names a field not of the direction's
kind changes nothing, nor does a request with two such sentences.

Then each `aw.ui.records` call of that entity in the answer's files gets `sort: "-field"` or
`sort: "field"`: its sort replaced, or added after `entity`. Each change is a line of the step's fixes.

`fit_filter`: asked for "a dropdown to filter by brew method" or "a menu to show only the rare
ones", the 0.5B leaves `filter` out or names a field that is no menu (`filter: "client"`). In a
sentence with a cue ("dropdown", "menu", "filter", "show only"), the one menu (`enum`) field of the
list's entity the sentence names, else the one whose values it names (plurals count: "the
vegetables"), else, for "dropdown", "menu" or "filter" naming no field, the entity's one menu that
is not yes/no, becomes the call's `filter` where the call has none or one that is no menu. A filter
on another menu is the model's choice and stays; yes/no fields cannot be picked by (aw.ui.records
filters on menus).

`fit_total`: asked for "the total minutes walked at the bottom" or "the total of the prices", the
0.5B leaves `total` out. In a sentence that says "total", "sum", "add up" or "altogether" (not "no
total"), and within it the clauses that do, the number field of the list's entity they name
(plurals count: "the amounts"), else the one a word of whose name they say ("total kg" for
`weight_kg`), else for money words ("the total I've spent") the one named like money, else the
only number field of the app's only entity with any (not where they count records: "how many",
"the number of walks", which the SDK cannot show), becomes the call's `total` where it has none
or one that is no number field. Nothing where the entity has a field named "total...": the word
may name it.

`fit_search`: asked for "a search box for the crop name" or "search orders by customer", the 0.5B
leaves `search` out of the call. A sentence that says "search" (or "serch"; not "no search") gives
each call without a `search` key `search: true` (a box over the list's text fields).

Not done: pages that list records with their own script (`.list({sort})`), orders of two keys,
and a total of two fields added together.
"""

from __future__ import annotations

import re
from typing import Callable

from appwright.runtime.manifest import FieldSpec, Manifest

_CUE = re.compile(r"\bfirst\b|\bat the top\b|\bon top\b|\border\b|\bsort|\ba\s*(?:to|-)\s*z\b|"
                  r"\bz\s*(?:to|-)\s*a\b|\balphabetic", re.I)
# (kind, descending) for the words of direction; the first that matches at a place wins.
_WORDS: list[tuple[str, str, bool]] = [
    (r"most recent(?:ly)?|latest|newest|recent(?:ly)?", "date", True),
    (r"oldest|earliest|soonest|longest[ -]standing", "date", False),
    (r"z\s*(?:to|-)\s*a", "name", True),
    (r"a\s*(?:to|-)\s*z|alphabetic(?:al)?(?:ly)?", "name", False),
    (r"most expensive|priciest|dearest", "size:money", True),
    (r"least expensive|cheapest", "size:money", False),
    (r"heaviest", "size:weight", True),
    (r"lightest", "size:weight", False),
    (r"longest", "size:duration", True),
    (r"shortest|quickest|fastest", "size:duration", False),
    (r"best(?:[ -]rated)?|top[ -]rated|highest[ -]rated", "size:rating", True),
    (r"worst(?:[ -]rated)?|lowest[ -]rated", "size:rating", False),
    (r"highest|most|biggest|largest|greatest|high to low", "size", True),
    (r"lowest|least|fewest|smallest|low to high", "size", False),
]
_DIRECTION = re.compile("|".join(rf"\b(?P<w{i}>{w})\b" for i, (w, _, _) in enumerate(_WORDS)), re.I)
_NOT_ORDER = re.compile(r"\bat (?:most|least)\b|\bmost of\b|\bmost often\b|\bfirst (?:name|time|of)\b", re.I)
# the quantity a size word is about, as field names say it
_QUANTITY = {"money": r"price|cost|rent|fee|amount|spent|spend|paid|budget",
             "weight": r"weight|kg|kilos?|grams?|lbs?|pounds",
             "duration": r"minutes?|mins|hours?|duration|length|time|seconds|days",
             "rating": r"rating|score|stars?|rank"}
_KINDS = {"date": ("date", "datetime"), "size": ("number", "integer"), "name": ("string", "text")}
_RECORDS = re.compile(r"aw\.ui\.records\s*\(\s*[^,()]+,\s*\{")
_ENTITY = re.compile(r"""\bentity\s*:\s*["'](\w+)["']""")


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _sentences(request: str) -> list[str]:
    return re.split(r"(?<=[.!?;])\s+|\n+", request)


def order_sentences(request: str) -> list[tuple[str, str, bool]]:
    """(sentence, kind, descending) for each sentence of `request` that asks for an order in one
    direction; the kind is "date", "name", "size" or "size:QUANTITY"."""
    out = []
    for sentence in _sentences(request):
        if not _CUE.search(sentence):
            continue
        text = _NOT_ORDER.sub(" ", sentence)
        found = {_WORDS[int(m.lastgroup[1:])][1:] for m in _DIRECTION.finditer(text)}
        directions = {desc for _, desc in found}
        kinds = {kind.split(":")[0] for kind, _ in found}
        if len(directions) == 1 and len(kinds) == 1:
            # the most specific kind: "size:money" over "size" ("the most expensive")
            kind = max((k for k, _ in found), key=len)
            out.append((sentence, kind, directions.pop()))
    return out


def _named(sentence: str, entity: str, fields: dict[str, FieldSpec]) -> list[str]:
    """Fields the sentence says every word of the name of, as written: "the messages A to Z by the
    writer" lists the messages, it does not order by `message`; the entity's own words aside ("the
    latest test date" does not name `test_date` of Test)."""
    own = _words(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", entity))
    said = _words(sentence) - own
    return [name for name in fields if (words := _words(name.replace("_", " ")) - own) and words <= said]


def order_field(sentence: str, kind: str, entity: str, fields: dict[str, FieldSpec],
                current: str | None = None) -> str | None:
    """The field of `entity` that `sentence` orders by, or None when it cannot tell. `current`: the
    field the page sorts by now."""
    base, _, quantity = kind.partition(":")
    fits = [n for n, f in fields.items() if f.type in _KINDS[base]]
    if base == "date":  # "the newest films first, by the year": a year is a number
        fits += [n for n, f in fields.items() if f.type in ("number", "integer") and "year" in n]
        fits += [n for n in ("created_at", "updated_at") if n == current]
    quoted = [f for f in re.findall(r"`(\w+)`", sentence) if f in fields]
    if quoted:
        return quoted[0] if len(quoted) == 1 and quoted[0] in fits else None
    if current in fits:
        return current
    named = _named(sentence, entity, fields)
    if named:
        return named[0] if len(named) == 1 and named[0] in fits else None
    like = [n for n in fits if quantity and re.search(rf"(?:^|_)(?:{_QUANTITY[quantity]})(?:_|$)", n)]
    if len(like) == 1:
        return like[0]
    if base == "date" and not fits:
        return "created_at"
    if base == "name":  # "the words alphabetically": the one text a record must have
        fits = [n for n in fits if fields[n].required]
    return fits[0] if len(fits) == 1 else None


def _call_end(text: str, start: int) -> int:
    """The index just past the `}` that closes the options object opened at text[start - 1]."""
    depth = 1
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return i + 1
    return len(text)


def _option(options: str, key: str) -> re.Match | None:
    return re.search(rf"""\b{key}\s*:\s*["'](-?\w+)["']""", options)


def _set_option(options: str, key: str, value: str) -> str:
    """The options object's text with `key: "value"` (`key: true` for "true"): replaced where it is,
    else after `entity`, else first."""
    have, named = _option(options, key), _ENTITY.search(options)
    if have:
        return options[:have.start(1)] + value + options[have.end(1):]
    written = "true" if value == "true" else f'"{value}"'
    if named:
        return options[:named.end()] + f", {key}: {written}" + options[named.end():]
    return f"{key}: {written}, " + options.lstrip()


def _fit_calls(files: dict[str, str], manifest: Manifest, key: str,
               choose: Callable[[str, FieldSpec | None, str | None], str | None], why: str
               ) -> tuple[dict[str, str], list[str]]:
    """Each aw.ui.records call of the answer's pages and scripts with `key` set to what
    `choose(entity, its fields, the key's value now)` says (None: left as it is): (files, fixes)."""
    out, fixes = dict(files), []
    for path, text in files.items():
        if not path.endswith((".html", ".js")):
            continue
        pieces, last = [], 0
        for m in _RECORDS.finditer(text):
            end = _call_end(text, m.end())
            options = text[m.end():end]
            named = _ENTITY.search(options)
            entity = named.group(1) if named else next(iter(manifest.entities), "")
            spec = manifest.entities.get(entity)
            have = _option(options, key)
            if not have and re.search(rf"\b{key}\s*:", options):  # a list, a variable: the model's own
                continue
            want = choose(entity, spec.fields, have and have.group(1)) if spec else None
            if want is None or (have and have.group(1) == want):
                continue
            pieces += [text[last:m.end()], _set_option(options, key, want)]
            last = end
            fixes.append(f'{path}: the {entity} list {why}: {key} {have.group(1) if have else "(none)"} -> {want}')
        if pieces:
            out[path] = "".join(pieces) + text[last:]
    return out, fixes


def fit_order(files: dict[str, str], manifest: Manifest, request: str) -> tuple[dict[str, str], list[str]]:
    """The answer's `files` with each aw.ui.records call sorted as `request` asks: (files, fixes)."""
    asked = order_sentences(request)
    if len(asked) != 1:
        return files, []
    sentence, kind, desc = asked[0]

    def choose(entity: str, fields: dict[str, FieldSpec], now: str | None) -> str | None:
        field = order_field(sentence, kind, entity, fields, now and now.lstrip("-"))
        return field and ("-" if desc else "") + field

    return _fit_calls(files, manifest, "sort", choose, f'in the order asked for ("{sentence.strip()[:80]}")')


_MENU_CUE = re.compile(r"\bdrop[ -]?downs?\b|\bmenus?\b|\bfilter", re.I)  # asks for a menu, not only some records
_FILTER_CUE = re.compile(_MENU_CUE.pattern + r"|\bshow (?:me )?(?:only|just)\b|\bonly show\b|\bsee (?:only|just)\b|"
                         r"\bjust (?:show|see)\b", re.I)


def _says_value(value: str, said: set[str]) -> bool:
    """Whether the sentence's words say a menu value, or its plural ("the vegetables")."""
    words = _words(value)
    return bool(words) and all(w in said or w + "s" in said or w + "es" in said for w in words)


def filter_field(request: str, entity: str, fields: dict[str, FieldSpec]) -> str | None:
    """The menu field of `entity` that `request` asks to pick the list by: in a sentence with a cue
    ("dropdown", "menu", "filter", "show only"), the one menu field the sentence names ("filter by brew
    method", "show only one stage"), else the one whose values it names ("only the rare ones", "only road
    or trail", "only the vegetables"), else, for "a dropdown", "a menu" or "filter" that names no field,
    the entity's one menu that is not yes/no ("a dropdown to show just one type of feed"). None when no
    sentence, or two, say one."""
    menus = {n: f for n, f in fields.items() if f.type == "enum" and f.values}
    found = set()
    for sentence in _sentences(request):
        if not _FILTER_CUE.search(sentence):
            continue
        names = _named(sentence, entity, fields)
        named = [n for n in names if n in menus]
        said = _words(sentence)
        valued = [n for n, f in menus.items() if any(_says_value(v, said) for v in f.values or [])]
        only = [n for n, f in menus.items() if not {str(v).lower() for v in f.values or []} <= {"yes", "no"}]
        pick = named or valued or (only if _MENU_CUE.search(sentence) and not names else [])
        if len(pick) == 1:
            found.add(pick[0])
    return found.pop() if len(found) == 1 else None


def fit_filter(files: dict[str, str], manifest: Manifest, request: str) -> tuple[dict[str, str], list[str]]:
    """The answer's `files` with each aw.ui.records call offering the menu `request` asks to pick the
    list by, where the call has none or names a field that is no menu: (files, fixes)."""
    def choose(entity: str, fields: dict[str, FieldSpec], now: str | None) -> str | None:
        if now in fields and fields[now].type == "enum":
            return None
        return filter_field(request, entity, fields)

    return _fit_calls(files, manifest, "filter", choose, "with the menu asked for to pick by")


_TOTAL_CUE = re.compile(r"\btotals?\b|\bsum\b|\badd(?:s|ed|ing)?(?: (?:it|them|these|those|all))? up\b|"
                        r"\baltogether\b", re.I)
_COUNT = re.compile(r"\bhow many\b|\bnumber of\b|\bcount\b", re.I)  # of records, unless a field is named
_NO_TOTAL = re.compile(r"\b(?:no|not|without|don'?t need)\b[^.]*\btotal", re.I)
_MONEY = re.compile(r"\bspen[dt]\b|\bspending\b|\bpaid\b|\bpay\b|\bcosts?\b|\bprices?\b|\bmoney\b|[£$€]", re.I)


def total_field(request: str, entity: str, manifest: Manifest) -> str | None:
    """The number field of `entity` whose sum `request` asks to see under the list. In a sentence
    with a cue ("total", "sum", "add up", "altogether"), read in its clauses with the cue (cut at
    commas and "and"): the one number field they name, else the one they say a word of, else for
    money words ("what I've spent") the one named like money, else, where they count nothing
    ("how many", "number of"), the only number field of the app's only entity with any. None
    when no sentence, or two, say one."""
    fields = manifest.entities[entity].fields
    numbers = [n for n, f in fields.items() if f.type in ("number", "integer")]
    if not numbers or any("total" in _words(n.replace("_", " ")) for n in fields):
        return None
    counted = [e for e, spec in manifest.entities.items() if any(f.type in ("number", "integer")
                                                                 for f in spec.fields.values())]
    found = set()
    for sentence in _sentences(request):
        if not _TOTAL_CUE.search(sentence) or _NO_TOTAL.search(sentence):
            continue
        # its clause that asks: "oldest vintage first and show how many bottles in total" is of bottles
        sentence = " ".join(c for c in re.split(r",|\band\b", sentence) if _TOTAL_CUE.search(c))
        said = _words(sentence)
        said |= {w[:-1] for w in said if w.endswith("s")} | {w[:-2] for w in said if w.endswith("es")}
        named = [n for n in _named(" ".join(sorted(said)), entity, fields) if n in numbers]
        partly = [n for n in numbers if _words(n.replace("_", " ")) & said]
        money = [n for n in numbers if _MONEY.search(sentence)
                 and re.search(rf"(?:^|_)(?:{_QUANTITY['money']})(?:_|$)", n)]
        only = numbers if counted == [entity] and not _COUNT.search(sentence) else []
        pick = named or partly or money or only
        if len(pick) == 1:
            found.add(pick[0])
    return found.pop() if len(found) == 1 else None


def fit_total(files: dict[str, str], manifest: Manifest, request: str) -> tuple[dict[str, str], list[str]]:
    """The answer's `files` with each aw.ui.records call showing the total `request` asks for,
    where the call has none or names a field that is no number: (files, fixes)."""
    def choose(entity: str, fields: dict[str, FieldSpec], now: str | None) -> str | None:
        if now in fields and fields[now].type in ("number", "integer"):
            return None
        return total_field(request, entity, manifest)

    return _fit_calls(files, manifest, "total", choose, "with the total asked for")


# not "look ... up": "a Credential entity ... so I can look them up" asks for no search box
_SEARCH_CUE = re.compile(r"\bsea?rch", re.I)  # "serch": people misspell it
_NO_SEARCH = re.compile(r"\b(?:no|not|without|don'?t need)\b[^.]*\bsea?rch", re.I)


def asks_search(request: str) -> bool:
    """Whether a sentence of `request` asks for a search box ("a search for the crop name", "i want
    to serch by title"), and none says it needs none."""
    sentences = [s for s in _sentences(request) if _SEARCH_CUE.search(s)]
    return bool(sentences) and not any(_NO_SEARCH.search(s) for s in sentences)


def fit_search(files: dict[str, str], manifest: Manifest, request: str) -> tuple[dict[str, str], list[str]]:
    """The answer's `files` with each aw.ui.records call that has no `search` given one, where
    `request` asks for a search box: (files, fixes)."""
    if not asks_search(request):
        return files, []
    return _fit_calls(files, manifest, "search", lambda entity, fields, now: "true",
                      "with the search box asked for")

"""Measures declared as numbers, not whole numbers.

    text, fixes = fit_measures(app_json_text, request, before=start_app_json)

Seen from our 0.5B on requests in people's words: it declares `integer` for quantities that
people write with decimals: "the miles" (42.5), "time in minutes" (24.5), "how long it is in
minutes" (4.5), "number of hours" (4.5). Every record with such a value is refused ("expected a
whole number"), so the person cannot save a real trip, race or booking, and nothing else of the
app can be used with them (4 of the read people runs' failures: people40 2, people25c 1,
people25d 1).

A field that this answer makes `integer` (new, or of another type before) becomes `number` when
a word of its name is a measure of time, distance, weight, volume or money (`minutes`, `hours`,
`miles`, `km`, `kg`, `litres`, `price`, `fee`, `cost`, `amount`, `weight`, `distance`, ...),
unless the request asks for whole numbers ("whole", "integer"). A `number` takes every whole
number an `integer` does, with the same limits; the page's input then takes decimals too.
Each change is a line of the step's fixes.

Not done: counts (`pages`, `bottles`, `people`) stay whole, as do measures the request does not
name in the field's words.
"""

from __future__ import annotations

import json
import re

from appwright.agent.fixups import entity_fields, read_entities

MEASURES = {"minute", "minutes", "mins", "min", "hour", "hours", "hrs", "duration", "time", "length",
            "mile", "miles", "km", "kms", "kilometres", "kilometers", "distance", "height",
            "kg", "kgs", "kilos", "weight", "lbs", "pounds", "stone", "litres", "liters", "litre", "liter",
            "price", "cost", "fee", "fees", "amount", "spent", "paid", "value", "budget", "rent", "wage"}
_WHOLE = re.compile(r"\bwhole\b|\bintegers?\b|\bno decimals\b", re.I)


def fit_measures(text: str, request: str, before: str | None = None) -> tuple[str, list[str]]:
    """(app.json with each measure this answer makes `integer` declared `number`; what changed).
    `before`: the app's app.json before this answer."""
    read = read_entities(text, before)
    if read is None or _WHOLE.search(request):
        return text, []
    data, entities, old = read
    fixes = []
    for entity_name, _, fields, had in entity_fields(entities, old):
        for name, spec in fields.items():
            was = had.get(name)
            if (not isinstance(spec, dict) or spec.get("type") != "integer"
                    or (isinstance(was, dict) and was.get("type") == "integer")):
                continue
            if not set(re.findall(r"[a-z]+", name.lower())) & MEASURES:
                continue
            spec["type"] = "number"
            fixes.append(f"entities.{entity_name}.fields.{name}: integer -> number: a measure people write "
                         "with decimals (4.5)")
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n" if fixes else text), fixes

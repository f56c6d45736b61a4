"""agent/pagefix.py: what the harness puts right in a page (inputs a form lacks, the sign-in box) and the
menus it reads from one for agent/fixups.py."""

from __future__ import annotations

import json

from appwright.agent.fixups import fix_manifest
from appwright.agent.answer import fix_page
from appwright.agent.pagefix import (add_missing_auth_box, add_missing_inputs, add_missing_outputs, fix_entity_names,
                                     menus)
from appwright.agent.parse import parse_reply
from appwright.runtime.manifest import parse_manifest

MANIFEST = parse_manifest({"name": "Bookings", "entities": {"Booking": {"fields": {
    "room": {"type": "string", "required": True, "max_length": 80},
    "day": {"type": "date", "required": True},
    "attendees": {"type": "integer", "min": 1, "max": 50},
    "purpose": {"type": "text"},
    "kind": {"type": "enum", "values": ["meeting", "<party>"]},
    "host": {"type": "ref", "entity": "Booking"}}}}})
PAGE = """<!doctype html><html><body>
<form id="new" hidden>
  <input name="room" required>
  <input name="day" type="date">
  <button>Add</button>
</form>
<ul id="list"></ul>
<script>
form.addEventListener("submit", async (e) => {
  await aw.entities.Booking.create({room: form.room.value, day: form.day.value, attendees: form.attendees.value,
    purpose: form.elements["purpose"].value, kind: form.elements.kind.value, host: form.host.value,
    note: form.note.value, target: e.target.value});
});
</script></body></html>"""


def test_fields_the_script_reads_and_the_form_lacks_get_labelled_inputs_before_the_button():
    files, fixes = add_missing_inputs({"app.json": "{}", "index.html": PAGE}, MANIFEST)
    page = files["index.html"]
    form = page[page.index("<form"):page.index("</form>")]
    assert '<label>Attendees <input type="number" step="1" name="attendees" min="1" max="50"></label>' in form
    assert '<label>Purpose <textarea name="purpose"></textarea></label>' in form
    assert '<label>Kind <select name="kind"><option>meeting</option><option>&lt;party&gt;</option></select></label>' in form
    assert form.index('name="kind"') < form.index("<button>Add</button>")
    assert 'name="host"' not in page and 'name="note"' not in page and 'name="target"' not in page  # ref; no field
    assert page.count('name="room"') == 1
    assert fixes == [f"index.html: added an input for {n} to the form (the script reads it; the form had none)"
                     for n in ("attendees", "purpose", "kind")]


def test_a_script_file_is_read_too_and_a_complete_form_is_left_alone():
    script = "form.addEventListener('submit', () => aw.entities.Booking.create({purpose: form.purpose.value}));"
    page = PAGE.split("<script>")[0] + "</body></html>"
    files, fixes = add_missing_inputs({"index.html": page, "app.js": script}, MANIFEST)
    assert fixes and '<textarea name="purpose">' in files["index.html"]
    again, none = add_missing_inputs(files, MANIFEST)
    assert none == [] and again == files
    assert add_missing_inputs({"app.js": script}, MANIFEST) == ({"app.js": script}, [])  # no page in the answer
    no_form = {"index.html": "<p>hi</p><script>x.purpose.value</script>"}
    assert add_missing_inputs(no_form, MANIFEST) == (no_form, [])


def test_the_element_a_script_hands_to_auth_form_is_added_when_the_page_lacks_it():
    page = '<html><body class="x">\n<h1>Costs</h1>\n<script>aw.ui.authForm("#auth");</script></body></html>'
    files, fixes = add_missing_auth_box({"index.html": page, "app.js": 'aw.ui.authForm(document.getElementById("who"))'})
    assert files["index.html"].startswith('<html><body class="x">\n  <div id="auth"></div>\n  <div id="who"></div>')
    assert [f.split(" for ")[0] for f in fixes] == ['index.html: added <div id="auth">', 'index.html: added <div id="who">']
    present = '<body><div id="auth"></div><script>aw.ui.authForm("#auth")</script></body>'
    assert add_missing_auth_box({"index.html": present}) == ({"index.html": present}, [])
    # The admins' page's own script is not index.html's: its sign-in box is on admin.html.
    two = {"index.html": '<body><script src="app.js"></script></body>', "app.js": "aw.entities.Request",
           "admin.html": '<body><div id="auth"></div><script src="admin.js"></script></body>',
           "admin.js": 'aw.ui.authForm("#auth")'}
    assert add_missing_auth_box(two) == (two, [])


def test_a_string_field_the_page_offers_as_a_menu_becomes_an_enum_of_its_values():
    page = """<form><select name="location"><option value="">Where?</option><option value="shelf">Shelf</option>
      <option value='cellar'>Cellar</option><option>van</option></select>
      <select name="note"><option>only one</option></select></form>"""
    assert menus([page]) == {"location": ["shelf", "cellar", "van"], "note": ["only one"]}
    manifest = {"name": "Stock", "entities": {"Item": {"fields": {
        "location": {"type": "string", "default": "shelf", "max_length": 20}, "note": {"type": "string"},
        "name": {"type": "string"}}}}}
    text, fixes = fix_manifest(json.dumps(manifest), menus([page]))
    fields = json.loads(text)["entities"]["Item"]["fields"]
    assert fields["location"] == {"type": "enum", "default": "shelf", "values": ["shelf", "cellar", "van"]}
    assert fields["note"] == {"type": "string"} and fields["name"] == {"type": "string"}  # one option; no menu
    assert fixes == ["entities.Item.fields.location: a string the page offers as a menu of shelf, cellar, van; "
                     "made it an enum of those"]
    parse_manifest(json.loads(text))  # valid


def test_an_entity_named_in_another_case_or_number_is_renamed_to_the_declared_one():
    two = parse_manifest({"name": "T", "entities": {"Entry": {"fields": {"a": {"type": "string"}}},
                                                    "Booking": {"fields": {"b": {"type": "string"}}},
                                                    "Bookings": {"fields": {"c": {"type": "string"}}}}})
    js = ('aw.entities.Entries.list(); aw.entities["entry"].create({}); aw.entities.Booking.list();'
          ' aw.entities.bookings.list(); aw.entities.Note.list();')
    files, fixes = fix_entity_names({"app.js": js, "style.css": "aw.entities.Entries"}, two)
    # Entries and entry mean Entry; "bookings" matches both Booking and Bookings, Note nothing: left
    assert files["app.js"] == ('aw.entities.Entry.list(); aw.entities["Entry"].create({}); aw.entities.Booking.list();'
                               ' aw.entities.bookings.list(); aw.entities.Note.list();')
    assert files["style.css"] == "aw.entities.Entries"
    assert fixes == ["app.js: aw.entities.Entries renamed to Entry (app.json declares Entry, Booking, Bookings)",
                     "app.js: aw.entities.entry renamed to Entry (app.json declares Entry, Booking, Bookings)"]


def test_the_loop_renames_entities_in_a_script_block_of_the_answer():
    """A repair answer holds only app.js; the manifest comes from the app on disk."""
    reply = '<file path="app.js">\nconst E = aw.entities.Bookings;\nE.list();\n</file>\nI fixed it.'
    parsed = parse_reply(reply)
    fixed, fixes = fix_page(reply, parsed, {"app.json": json.dumps({"name": "B", "entities": {"Booking": {
        "fields": {"room": {"type": "string"}}}}}), "index.html": "<p>x</p>"})
    assert "aw.entities.Booking;" in fixed and "Bookings" not in fixed and fixed.endswith("I fixed it.")
    assert parsed.files[0].content.startswith("const E = aw.entities.Booking;")
    assert fixes == ["app.js: aw.entities.Bookings renamed to Booking (app.json declares Booking)"]


def test_an_element_the_script_writes_into_and_the_page_lacks_is_added_before_the_first_script():
    page = '<body><ul id="list"></ul><p id="count"></p>\n  <script src="app.js"></script></body>'
    js = ('document.getElementById("total").textContent = "Total: " + t;\n'
          'document.querySelector("#count").textContent = n;\n'
          'const sum = document.getElementById("sum");\nsum.innerText = 3;\n'
          'const box = document.getElementById("box"); if (box) box.hidden = true;\n'
          'if (document.getElementById("flag").value == 2) go();')
    files, fixes = add_missing_outputs({"index.html": page, "app.js": js})
    # total and sum are written and missing; count exists; box and flag are only read
    assert files["index.html"] == ('<body><ul id="list"></ul><p id="count"></p>\n  <p id="total"></p>\n  '
                                   '<p id="sum"></p>\n  <script src="app.js"></script></body>')
    assert fixes == ['index.html: added <p id="total"> (the script writes into it; the page had no such element)',
                     'index.html: added <p id="sum"> (the script writes into it; the page had no such element)']
    assert add_missing_outputs(files) == (files, [])

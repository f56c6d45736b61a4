"""agent/pagefix.py: inputs a form lacks that its script reads are added by the harness."""

from __future__ import annotations

from appwright.agent.pagefix import add_missing_inputs
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

// app.js: room booking app
const E = aw.entities.Booking;
const FIELDS = [{"name": "room", "type": "string", "label": "room"}, {"name": "day", "type": "date", "label": "day"}, {"name": "attendees", "type": "integer", "label": "attendees"}, {"name": "purpose", "type": "string", "label": "purpose"}];
const form = document.getElementById("new");
const list = document.getElementById("list");
const error = document.getElementById("error");
const noBooking = document.getElementById("no-booking");
let records = [];
let me = null;
let sort = "day";
let where = "";
let limit = 10;
let meId = null;

async function mine(r) { return me && r.owner === meId; }

function valueOf(f) {
  const el = form.elements[f.name];
  if (f.type === "boolean") return el.checked;
  const v = el.value.trim();
  if (v === "") return undefined;
  return f.type === "number" || f.type === "integer" ? Number(v) : v;
}

async function render() {
  try {
    records = await E.list({sort, where, limit});
    noBooking.textContent = records.length === 0 ? "No bookings yet." : "";
  } catch (err) {
    error.textContent = err.message;
    records = [];
  }
  let shown = records;
  if (sort !== "" && where !== "") {
    shown = shown.filter(r => valueOf(FIELDS.find(f => f.name === sort)).equals(valueOf(FIELDS.find(f => f.name === where))));
  }
  aw.ui.list(list, shown, r => aw.html`<li><strong>${r.room}</strong>${r.day == null || r.day === "" ? "" : " · day: "}${r.day ?? ""} ${r.attendees == null || r.attendees === "" ? "" : " · attendees: "}${r.attendees ?? ""} ${r.purpose == null || r.purpose === "" ? "" : " · purpose: "}${r.purpose ?? ""}${mine(r) ? aw.html`<button data-id="${r.id}">Delete</button>` : ""}</li>`, "No bookings yet.");
}

async function refresh() {
  try {
    records = await E.list({sort, where, limit});
    noBooking.textContent = records.length === 0 ? "No bookings yet." : "";
  } catch (err) {
    error.textContent = err.message;
    records = [];
  }
  render();
}

list.addEventListener("click", async (e) => {
  const id = e.target.dataset && e.target.dataset.id;
  if (!id) return;
  try { await E.remove(id); } catch (err) { error.textContent = err.message; }
  refresh();
});

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const record = {};
  for (const f of FIELDS) {
    const v = valueOf(f);
    if (v !== undefined) record[f.name] = v;
  }
  try {
    await E.create(record);
    form.reset();
    refresh();
  } catch (err) {
    error.textContent = err.message;
  }
});

(async () => {
  await aw.ui.authForm("#auth");
  me = await aw.auth.me();
  form.hidden = !me;
  if (me || false) refresh();
})();

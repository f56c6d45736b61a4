// Room Booking: the code for the app
const E = aw.entities.Booking;
const FIELDS = [{"name": "room", "type": "string", "label": "room"}, {"name": "day", "type": "date", "label": "day"}, {"name": "attendees", "type": "integer", "label": "attendees"}, {"name": "purpose", "type": "string", "label": "purpose"}];
const form = document.getElementById("new");
const list = document.getElementById("list");
const error = document.getElementById("error");
let me = null;
let records = [];

function mine(r) { return me && r.owner === me.id; }
function valueOf(f) {
  const el = form.elements[f.name];
  if (f.type === "boolean") return el.checked;
  const v = el.value.trim();
  if (v === "") return undefined;
  return f.type === "number" || f.type === "integer" ? Number(v) : v;
}

function render() {
  let shown = records;
  const where = aw.ui.list.where;
  const limit = aw.ui.list.limit;
  aw.ui.list.clear(list);
      ! aw.ui.list.clear is not a function (at render (app.js:24:14))
   if (where) shown = shown.filter(r => where(r));
   if (limit) shown = shown.slice(0, limit);
   shown.sort((a, b) => a.day < b.day ? -1 : 1);
   shown.forEach(r => {
   const li = document.createElement("li");
   const field = FIELDS.find(f => f.name === r[f.name]);
   if (field) {
     const v = valueOf(field);
     if (v !== undefined) li.textContent = `${r[f.name]} ${v}`;
   }
   const button = document.createElement("button");
   button.textContent = mine(r) ? "Delete" : "Edit";
   button.onclick = () => mine(r) ? aw.ui.list.remove(list, r) : aw.ui.form.submit(form, {entity: E, id: r.id});
   li.appendChild(button);
   list.appendChild(li);
   });
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
  document.getElementById("new").hidden = true;
  document.getElementById("list").hidden = records.length === 0;
  me = null;
  if (aw.auth.me) {
    form.hidden = false;
    document.getElementById("new").hidden = false;
    document.getElementById("list").hidden = records.length === 0;
    me = aw.auth.me();
    aw.ui.list(list, records, render, "No bookings yet.");
  }
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
document.getElementById("new").hidden = true;
document.getElementById("list").hidden = records.length === 0;
me = null;
if (aw.auth.me) {
  form.hidden = false;
  document.getElementById("new").hidden = false;
  document.getElementById("list").hidden = records.length === 0;
  me = aw.auth.me();
  aw.ui.list(list, records, render, "No bookings yet.");
}

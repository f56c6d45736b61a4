// event RSVP list: the data is in the server
const E = aw.entities.Rsvp;
const FIELDS = [{"name": "guest_name", "type": "string", "label": "Guest name"}, {"name": "party_size", "type": "integer", "label": "Party size"}, {"name": "answer", "type": "enum", "label": "Answer"}];
const form = document.getElementById("new");
const list = document.getElementById("list");
const error = document.getElementById("error");
let records = [];
let me = null;
let sort = "guest_name";
let where = "";
let limit = 20;
let submitting = false;

async function refresh() {
  try {
    records = await E.list({sort, where, limit});
    document.getElementById("total").textContent = records.length + "";
  } catch (err) {
    error.textContent = err.message;
  }
}

async function valueOf(f) {
  const el = form.elements[f.name];
  if (f.type === "boolean") return el.checked;
  const v = el.value.trim();
  if (v === "") return undefined;
  return f.type === "number" || f.type === "integer" ? Number(v) : v;
}

function render() {
  let shown = records;
  if (me && E.canEdit(me.id)) shown = shown.filter(r => r.owner === me.id);
  aw.ui.list(list, shown, r => aw.html`<li><strong>${r.guest_name}</strong>${r.party_size == null || r.party_size === "" ? "" : " · Party size: "}${r.party_size ?? ""} ${r.answer == null || r.answer === "" ? "" : " · Answer: "}${r.answer ?? ""} ${r.created_at == null || r.created_at === "" ? "" : " · Created: "}${r.created_at ?? ""} ${r.updated_at == null || r.updated_at === "" ? "" : " · Updated: "}${r.updated_at ?? ""} <button data-id="${r.id}">Delete</button></li>`, "No RSVPs yet.");
}

async function recordChange(e) {
  const r = records.find(r => r.id === e.target.dataset.id);
  if (!r) return;
  const f = FIELDS.find(f => f.name === e.target.name);
  if (f.type === "boolean") r[f.name] = e.target.checked;
  else r[f.name] = e.target.value.trim();
  submitting = true;
  try {
    await E.update(r.id, f);
    refresh();
  } catch (err) {
    error.textContent = err.message;
  }
  submitting = false;
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (submitting) return;
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
  submitting = false;
});

list.addEventListener("click", async (e) => {
  const id = e.target.dataset && e.target.dataset.id;
  if (!id) return;
  try { await E.remove(id); } catch (err) { error.textContent = err.message; }
  refresh();
});

document.getElementById("auth").hidden = !me;
document.getElementById("new").hidden = !me || E.canAdd();
document.getElementById("list").hidden = !me || E.canRead();
sort = document.getElementById("sort").value;
where = document.getElementById("where").value;
limit = document.getElementById("limit").value || 20;
refresh();

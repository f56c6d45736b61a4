// event RSVP list: the data model, the view, and the controller
const E = aw.entities.Rsvp;
const FIELDS = [{"name": "guest_name", "type": "string", "label": "Guest name"}, {"name": "party_size", "type": "integer", "label": "Party size"}, {"name": "answer", "type": "enum", "label": "Answer"}];
const form = document.getElementById("new");
const list = document.getElementById("list");
const error = document.getElementById("error");
let records = [];
let me = null;
let s = null;
let submitting = false;

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
  const where = s ? `WHERE (${s.join(" AND ")})` : "";
  try {
    shown = await E.list({sort: "-created_at", where, limit: 100});
  } catch (err) {
    error.textContent = err.message;
    return;
  }
  aw.ui.list(list, shown, r => aw.html`<li><strong>${r.guest_name}</strong>${r.party_size == null || r.party_size === "" ? "" : " · Party size: "}${r.party_size ?? ""} ${r.answer == null || r.answer === "" ? "" : " · Answer: "}${r.answer ?? ""}${mine(r) ? aw.html`<button data-id="${r.id}">Delete</button>` : ""}</li>"), "No RSVPs yet.");
}

function refresh() {
  records = [];
  try {
    records = await E.list({sort: "-created_at"});
  } catch (err) {
    error.textContent = err.message;
    return;
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
  submitting = true;
  const record = {};
  for (const f of FIELDS) {
    const v = valueOf(f);
    if (v !== undefined) record[f.name] = v;
  }
  try {
    await E.create(record);
    form.reset();
    submitting = false;
    refresh();
  } catch (err) {
    error.textContent = err.message;
    submitting = false;
  }
});

(async () => {
  await aw.ui.authForm("#auth");
  me = await aw.auth.me();
  s = aw.ui.list("#list", await aw.entities.Note.list({sort: "-created_at"}), r => aw.html`<li><strong>${r.guest_name}</strong>${r.party_size == null || r.party_size === "" ? "" : " · Party size: "}${r.party_size ?? ""} ${r.answer == null || r.answer === "" ? "" : " · Answer: "}${r.answer ?? ""}${mine(r) ? aw.html`<button data-id="${r.id}">Delete</button>` : ""}</li>"), "No RSVPs yet.");
  form.hidden = !me;
  document.getElementById("new").hidden = !me;
  document.getElementById("list").hidden = me || false;
  document.getElementById("auth").hidden = !me || false;
  document.getElementById("total").textContent = aw.ui.number("#list", records.length, "Total party sizes: ");
  await refresh();
})();

const E = aw.entities.Contact;
const FIELDS = [{"name": "name", "type": "string", "label": "name"}, {"name": "phone", "type": "string", "label": "phone"}, {"name": "relation", "type": "enum", "values": [
    "family",
    "friend",
    "work"
  ]}];
const form = document.getElementById("new");
const list = document.getElementById("list");
const error = document.getElementById("error");
let me = null;
let records = [];

function mine(r) { return me && r.owner === me.id; }

function valueOf(f, from = form) {
  const el = from.elements.namedItem(f.name);
  if (f.type === "boolean") return el.checked;
  const v = el.value.trim();
  if (v === "") return undefined;
  return f.type === "number" || f.type === "integer" ? Number(v) : v;
}

function render() {
  let shown = records;
  
  aw.ui.list(list, shown, r => aw.html`<li><strong>${r.name}</strong>${r.phone == null || r.phone === "" ? "" : " · phone: "}${r.phone ?? ""} ${r.relation == null || r.relation === "" ? "" : " · relation: "}${r.relation ?? ""}${mine(r) ? aw.html`<button data-id="${r.id}">Delete</button>` : ""}</li>`, "No contacts yet.");
  
}

async function refresh() {
  try {
    records = await E.list({sort: "-created_at"});
    error.textContent = "";
  } catch (err) {
    records = [];
    error.textContent = err.message;
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
  form.hidden = !(me);
  if (me || false) refresh();
})();

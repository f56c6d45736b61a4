// event RSVP list: the app's main logic
const E = aw.entities.Rsvp;
const FIELDS = [{"name": "guest_name", "type": "string", "label": "Guest name"}, {"name": "party_size", "type": "integer", "label": "Party size"}, {"name": "answer", "type": "enum", "label": "Answer"}];
const form = document.getElementById("new");
const list = document.getElementById("list");
const error = document.getElementById("error");
let me = null;
let rsvs = [];

function mine(rsvp) { return me && me.owner === rsvp.owner; }
function valueOf(f) {
  const el = form.elements[f.name];
  if (f.type === "boolean") return el.checked;
  const v = el.value.trim();
  if (v === "") return undefined;
  return f.type === "number" || f.type === "integer" ? Number(v) : v;
}

function render() {
  let shown = rsvs;
  const where = aw.ui.list.filter((r) => mine(r));
  const limit = aw.ui.list.limit;
  shown = rsvs = await E.list({sort: "-created_at", where, limit});
  const has = shown.length > 0;
  aw.ui.list("#list", shown, (r) => aw.html`<li><strong>${r.guest_name}</strong>${r.party_size == null || r.party_size === "" ? "" : " · Party size: "}${r.party_size ?? ""} ${r.answer == null || r.answer === "" ? "" : " · Answer: "}${r.answer ?? ""} ${mine(r) ? aw.html`<button data-id="${r.id}">Delete</button>` : ""}</li>`, has ? "No RSVPs yet." : "");
}

async function refresh() {
  try { rsvs = await E.list({sort: "-created_at"}); } catch (err) { error.textContent = err.message; return; }
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
  const guest_name = valueOf(FIELDS[0]);
  const party_size = valueOf(FIELDS[1]);
  const answer = valueOf(FIELDS[2]);
  if (!guest_name || !party_size || !answer) { error.textContent = "All fields required."; return; }
  try { await E.create({guest_name, party_size, answer}); } catch (err) { error.textContent = err.message; return; }
  form.reset();
  refresh();
});

(async () => {
  await aw.ui.authForm("#auth");
  me = await aw.auth.me();
  if (!me || !me.owner) { window.location.href = "/"; return; }
  form.hidden = false;
  error.textContent = "";
  rsvs = [];
  await refresh();
})();

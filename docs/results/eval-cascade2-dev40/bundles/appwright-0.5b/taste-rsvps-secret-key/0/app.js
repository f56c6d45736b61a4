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
  const where = aw.url.searchParams.get("where") || "";
  const limit = aw.url.searchParams.get("limit") || 10;
  shown = aw.ui.list(shown, rsvs, r => aw.html`<li><strong>${r.guest_name}</strong>${r.party_size == null || r.party_size === "" ? "" : " · Party size: "}${r.party_size ?? ""} ${r.answer == null || r.answer === "" ? "" : " · Answer: "}${r.answer ?? ""}${mine(r) ? aw.html`<button data-id="${r.id}">Delete</button>` : ""}</li>`, "No RSVPs");
  const page = aw.url.searchParams.get("page") || 1;
  list.innerHTML = aw.ui.busy(list, () => {
    const start = (page - 1) * limit;
    const end = start + limit;
    return aw.html`<ul>${shown.slice(start, end)}</ul>${page == "" || page == 1 ? "" : " · Page "}${page} of ${rsvs.length / limit + (rsvs.length % limit == 0 ? "" : " page")}`;
  });
}

async function refresh() {
  try {
    me = await aw.auth.me();
    if (!me) throw new Error("Not signed in");
    const rsvs = await E.list({sort: "-created_at"});
    error.textContent = "";
    render();
  } catch (err) {
    error.textContent = err.message;
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
  const rsvp = {};
  for (const f of FIELDS) {
    const v = valueOf(f);
    if (v !== undefined) rsvp[f.name] = v;
  }
  try {
    await E.create(rsvp);
    form.reset();
    refresh();
  } catch (err) {
    error.textContent = err.message;
  }
});
document.getElementById("new").hidden = !me || !rsvs.some(mine);

// My diary: private entries, newest date first, with a feeling filter.
const Diary = aw.entities.DiaryEntry;
const form = document.getElementById("write");
const only = document.getElementById("only-feeling");
let entries = [];

function show() {
  const wanted = only.value;
  const shown = wanted ? entries.filter(e => e.feeling === wanted) : entries;
  aw.ui.list("#entries", shown, e => aw.html`<li>
      <strong>${e.title}</strong> <small>${e.date || "no date"} ${e.feeling ? "· " + e.feeling : ""}</small>
      <p>${e.body || ""}</p>
      <button type="button" data-remove="${e.id}">Delete</button>
    </li>`, "Your diary is empty. Write your first entry above.");
}

async function load() {
  try {
    entries = await Diary.list({sort: "-date"});
    aw.ui.error("#problem", null);
  } catch (err) {
    aw.ui.error("#problem", err);
  }
  show();
}

only.addEventListener("change", show);

document.getElementById("entries").addEventListener("click", async (ev) => {
  const id = ev.target.dataset.remove;
  if (!id) return;
  try { await Diary.remove(id); } catch (err) { aw.ui.error("#problem", err); }
  load();
});

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const entry = Object.fromEntries(new FormData(form));
  try {
    await aw.ui.busy(form, Diary.create(entry));
    form.reset();
    aw.ui.error("#problem", null);
    load();
  } catch (err) {
    aw.ui.error("#problem", err);
  }
});

(async () => {
  await aw.ui.authForm("#account");
  if (await aw.auth.me()) {
    form.hidden = false;
    load();
  }
})();

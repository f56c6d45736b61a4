// My word book: each learner sees only their own words; find one, or show one language.
const Term = aw.entities.Term;
const form = document.getElementById("add-term");
const find = document.getElementById("find");
const only = document.getElementById("only");
let terms = [];

function show() {
  const q = find.value.trim().toLowerCase();
  const lang = only.value;
  const shown = terms.filter(t => (!q || t.term.toLowerCase().includes(q)) && (!lang || t.lang === lang));
  aw.ui.list("#terms", shown, t => aw.html`<li><b>${t.term}</b> <small>${t.lang || ""}</small>:
      ${t.definition} (reviewed ${t.reviews ?? 0} times) <button type="button" data-id="${t.id}">Delete</button></li>`,
    terms.length ? "No word matches." : "No words yet.");
}

async function load() {
  try {
    terms = await Term.list({sort: "term"});
    aw.ui.error("#oops", null);
  } catch (err) {
    aw.ui.error("#oops", err);
  }
  show();
}

find.addEventListener("input", show);
only.addEventListener("change", show);
document.getElementById("terms").addEventListener("click", async (e) => {
  if (!e.target.dataset.id) return;
  try { await Term.remove(e.target.dataset.id); } catch (err) { aw.ui.error("#oops", err); }
  load();
});
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await aw.ui.busy(form, Term.create(Object.fromEntries(new FormData(form))));
    form.reset();
    load();
  } catch (err) {
    aw.ui.error("#oops", err);
  }
});

(async () => {
  await aw.ui.authForm("#account");
  const me = await aw.auth.me();
  form.hidden = document.getElementById("finder").hidden = !me;
  if (me) load();
})();

// Film diary: a shared list of films, most recent release year first, filtered by kind.
const Film = aw.entities.Film;
const form = document.getElementById("film-form");
const genre = document.getElementById("genre");
let me = null;
let films = [];

function draw() {
  const shown = genre.value ? films.filter(f => f.kind === genre.value) : films;
  aw.ui.list("#films", shown, f => aw.html`<li>
    <strong>${f.name}</strong> ${f.releaseYear ? aw.html`(${f.releaseYear})` : ""}
    ${f.kind || ""} ${f.score != null ? aw.html`· ${f.score}/10` : ""}
    ${me && f.owner === me.id ? aw.html`<button type="button" data-id="${f.id}">Delete</button>` : ""}
  </li>`, genre.value ? "No films of that kind." : "No films yet.");
}

async function load() {
  try {
    films = await Film.list({sort: "-releaseYear"});
  } catch (err) {
    aw.ui.error("#err", err);
  }
  draw();
}

genre.addEventListener("change", draw);
document.getElementById("films").addEventListener("click", async (e) => {
  if (!e.target.dataset.id) return;
  try { await Film.remove(e.target.dataset.id); } catch (err) { aw.ui.error("#err", err); }
  load();
});
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await aw.ui.busy(form, Film.create(Object.fromEntries(new FormData(form))));
    form.reset();
    aw.ui.error("#err", null);
    load();
  } catch (err) {
    aw.ui.error("#err", err);
  }
});

(async () => {
  await aw.ui.authForm("#auth");
  me = await aw.auth.me();
  document.getElementById("add").hidden = document.getElementById("films-box").hidden = !me;
  if (me) load();
})();

// Watchlist: films everyone signed in can see, the latest release year first, one genre at a time.
const Watch = aw.entities.WatchlistItem;
const form = document.getElementById("add-film");
const showGenre = document.getElementById("show-genre");
let me = null;
let films = [];

function byYearDesc(a, b) {
  return (b.year_released ?? -Infinity) - (a.year_released ?? -Infinity);
}

function table() {
  const shown = films.filter(f => !showGenre.value || f.category === showGenre.value).sort(byYearDesc);
  document.getElementById("rows").innerHTML = String(aw.html`${shown.map(f => aw.html`<tr>
    <td>${f.film_title}</td><td>${f.year_released ?? ""}</td><td>${f.my_score ?? ""}</td><td>${f.category ?? ""}</td>
    <td>${f.owner === me.id ? aw.html`<button type="button" data-id="${f.id}" title="Remove from watchlist">✕</button>` : ""}</td>
  </tr>`)}`);
  document.getElementById("empty").hidden = films.length > 0;
}

async function refresh() {
  try {
    films = await Watch.list();
  } catch (err) {
    aw.ui.error("#error", err);
  }
  table();
}

showGenre.addEventListener("change", table);
document.getElementById("rows").addEventListener("click", async (e) => {
  const id = e.target.dataset.id;
  if (!id) return;
  await Watch.remove(id);
  refresh();
});
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await aw.ui.busy(form, Watch.create(Object.fromEntries(new FormData(form))));
    form.reset();
    aw.ui.error("#error", null);
    refresh();
  } catch (err) {
    aw.ui.error("#error", err);
  }
});

(async () => {
  await aw.ui.authForm("#account");
  me = await aw.auth.me();
  document.getElementById("main").hidden = !me;
  if (me) refresh();
})();

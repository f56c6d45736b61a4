// Work board: one shared list of work items; find by title, show one status at a time.
const Items = aw.entities.WorkItem;
const LABEL = {todo: "To do", doing: "Doing", done: "Done"};
const state = {me: null, items: []};
const $ = (id) => document.getElementById(id);

function visible() {
  const term = $("find").value.trim().toLowerCase();
  const only = $("only").value;
  return state.items
    .filter(i => !only || i.progress === only)
    .filter(i => !term || i.taskName.toLowerCase().includes(term));
}

function draw() {
  const items = visible();
  const box = $("items");
  if (items.length === 0) {
    box.innerHTML = String(aw.html`<p class="empty">${state.items.length ? "No work items match." : "The board is empty: add the first work item."}</p>`);
    return;
  }
  box.innerHTML = String(aw.html`${items.map(i => aw.html`<div class="item">
    <div>${i.taskName}</div>
    <div class="meta">${LABEL[i.progress] || "No status"}${i.hoursEstimate != null ? ` · about ${i.hoursEstimate} h` : ""}</div>
    ${i.owner === state.me.id ? aw.html`<button type="button" data-remove="${i.id}">Remove</button>` : ""}
  </div>`)}`);
}

async function reload() {
  state.items = await Items.list({sort: "taskName"});
  draw();
}

$("find").addEventListener("input", draw);
$("only").addEventListener("change", draw);
$("items").addEventListener("click", async (e) => {
  const id = e.target.getAttribute("data-remove");
  if (!id) return;
  await Items.remove(id);
  reload();
});
$("new-item").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = e.target;
  const item = {taskName: f.taskName.value.trim(), progress: f.progress.value};
  if (f.hoursEstimate.value !== "") item.hoursEstimate = Number(f.hoursEstimate.value);
  try {
    await Items.create(item);
    f.reset();
    $("form-error").textContent = "";
    reload();
  } catch (err) {
    $("form-error").textContent = err.message;
  }
});

(async () => {
  await aw.ui.authForm("#session");
  state.me = await aw.auth.me();
  $("board").hidden = !state.me;
  if (state.me) reload();
})();

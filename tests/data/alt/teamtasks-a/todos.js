// Team to-dos: shared by everyone signed in; search titles, filter by stage.
const Todo = aw.entities.Todo;
const form = document.getElementById("todo-form");
const q = document.getElementById("q");
const stageFilter = document.getElementById("stage-filter");
let me = null;
let todos = [];

function render() {
  const term = q.value.trim().toLowerCase();
  const stage = stageFilter.value;
  const shown = todos.filter(t => (!term || t.task.toLowerCase().includes(term)) && (!stage || t.stage === stage));
  aw.ui.list("#todos", shown, t => aw.html`<li>
      ${t.task} <em>${t.stage}</em> ${t.hours != null ? aw.html`<span>${t.hours} h</span>` : ""}
      ${me && t.owner === me.id ? aw.html`<button type="button" data-id="${t.id}">Delete</button>` : ""}
    </li>`, todos.length ? "Nothing matches." : "No to-dos yet.");
}

async function load() {
  try {
    todos = await Todo.list();
    aw.ui.error("#error", null);
  } catch (err) {
    aw.ui.error("#error", err);
  }
  render();
}

q.addEventListener("input", render);
stageFilter.addEventListener("change", render);
document.getElementById("todos").addEventListener("click", async (e) => {
  if (!e.target.dataset.id) return;
  try { await Todo.remove(e.target.dataset.id); } catch (err) { aw.ui.error("#error", err); }
  load();
});
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await aw.ui.busy(form, Todo.create(Object.fromEntries(new FormData(form))));
    form.reset();
    load();
  } catch (err) {
    aw.ui.error("#error", err);
  }
});

(async () => {
  await aw.ui.authForm("#auth");
  me = await aw.auth.me();
  form.hidden = document.getElementById("tools").hidden = !me;
  if (me) load();
})();

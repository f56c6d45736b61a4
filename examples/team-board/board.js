// Team board: tasks are "shared" (app.json): every teammate reads all of them; whoever added a
// task (or an admin) changes it. Buttons follow that rule; the server enforces it anyway.
// Signup is invite-only: admins make single-use codes here with aw.auth.invite().
const STATUSES = ["todo", "doing", "done"];
const LABELS = { todo: "To do", doing: "Doing", done: "Done" };
const form = document.getElementById("new-task");
const board = document.getElementById("board");
const error = document.getElementById("error");
let me = null; // the signed-in user

function showError(err) { error.textContent = err ? err.message : ""; }

function today() { // the local calendar day as "YYYY-MM-DD", comparable with a date field
  const d = new Date();
  return [d.getFullYear(), d.getMonth() + 1, d.getDate()].map((n) => String(n).padStart(2, "0")).join("-");
}

function dueLabel(due) {
  // A date field is "YYYY-MM-DD"; read it as a local calendar day, not as UTC midnight.
  const [y, m, d] = due.split("-").map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

function statusOptions(current) {
  return STATUSES.map((s) => aw.html`<option value="${s}"${s === current ? aw.html` selected` : ""}>${LABELS[s]}</option>`);
}

function card(task) {
  const canChange = me.role === "admin" || task.owner === me.id;
  const at = STATUSES.indexOf(task.status);
  const overdue = task.due && task.status !== "done" && task.due < today();
  return aw.html`<li class="card${overdue ? " overdue" : ""}" data-id="${task.id}" data-status="${task.status}">
    <div class="view">
      <strong class="title">${task.title}</strong>
      ${task.details ? aw.html`<p class="details">${task.details}</p>` : ""}
      <p class="meta">
        ${task.assignee ? aw.html`<span class="assignee">${task.assignee}</span>` : aw.html`<span>Unassigned</span>`}
        ${task.due ? aw.html`<span class="due">Due ${dueLabel(task.due)}</span>` : ""}
        ${task.owner === me.id ? aw.html`<span class="by-you">added by you</span>` : ""}
      </p>
      ${canChange ? aw.html`<div class="actions">
        ${at > 0 ? aw.html`<button type="button" data-action="move" data-to="${STATUSES[at - 1]}">← ${LABELS[STATUSES[at - 1]]}</button>` : ""}
        ${at < 2 ? aw.html`<button type="button" data-action="move" data-to="${STATUSES[at + 1]}">${LABELS[STATUSES[at + 1]]} →</button>` : ""}
        <button type="button" data-action="edit">Edit</button>
        <button type="button" data-action="delete" class="danger">Delete</button>
      </div>` : ""}
    </div>
    ${canChange ? aw.html`<form class="edit" hidden>
      <input name="title" value="${task.title}" required maxlength="200" aria-label="Title">
      <textarea name="details" rows="3" maxlength="5000" aria-label="Details">${task.details}</textarea>
      <label>Assignee <input name="assignee" type="email" value="${task.assignee}" maxlength="254"></label>
      <label>Due <input name="due" type="date" value="${task.due}"></label>
      <label>Status <select name="status">${statusOptions(task.status)}</select></label>
      <div class="actions">
        <button type="submit">Save</button>
        <button type="button" data-action="cancel">Cancel</button>
      </div>
    </form>` : ""}
  </li>`;
}

// The form's values as a Task; empty optional fields are sent as null, not "".
function values(f) {
  return {
    title: f.title.value,
    details: f.details.value || null,
    assignee: f.assignee.value.trim() || null,
    due: f.due.value || null,
    status: f.status.value,
  };
}

async function refresh() {
  const tasks = await aw.entities.Task.list({ sort: "created_at" });
  for (const column of board.querySelectorAll(".column")) {
    const mine = tasks.filter((t) => t.status === column.dataset.status);
    column.querySelector(".cards").innerHTML = aw.html`${mine.map(card)}`;
    column.querySelector(".count").textContent = String(mine.length);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await aw.entities.Task.create(values(form));
    form.reset();
    showError(null);
    await refresh();
  } catch (err) { showError(err); }
});

board.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  const item = event.target.closest("li.card");
  if (!button || !item) return;
  const action = button.dataset.action;
  try {
    if (action === "move") {
      await aw.entities.Task.update(item.dataset.id, { status: button.dataset.to });
      await refresh();
    } else if (action === "delete") {
      await aw.entities.Task.remove(item.dataset.id);
      await refresh();
    } else {
      item.querySelector(".view").hidden = action === "edit";
      item.querySelector(".edit").hidden = action !== "edit";
    }
    showError(null);
  } catch (err) { showError(err); }
});

board.addEventListener("submit", async (event) => {
  event.preventDefault();
  const edit = event.target;
  try {
    await aw.entities.Task.update(edit.closest("li").dataset.id, values(edit));
    showError(null);
    await refresh();
  } catch (err) { showError(err); }
});

document.getElementById("make-invite").addEventListener("click", async () => {
  try {
    const code = await aw.auth.invite();
    const item = document.createElement("li");
    item.innerHTML = aw.html`<code class="invite-code">${code}</code>
      <button type="button" class="copy">Copy</button>`;
    item.querySelector(".copy").addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(code);
        item.querySelector(".copy").textContent = "Copied";
      } catch (err) { showError(new Error("could not copy; select the code and copy it by hand")); }
    });
    document.getElementById("invites").prepend(item);
    showError(null);
  } catch (err) { showError(err); }
});

(async () => {
  try {
    await aw.ui.authForm("#auth");
    me = await aw.auth.me();
    document.getElementById("welcome").hidden = me !== null;
    if (!me) return;
    document.getElementById("app").hidden = false;
    document.getElementById("admin").hidden = me.role !== "admin";
    await refresh();
  } catch (err) { showError(err); }
})();

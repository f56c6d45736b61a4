// Private notes: each user sees only their own notes (access "owner" in app.json).
const form = document.getElementById("new-note");
const list = document.getElementById("notes");
const error = document.getElementById("error");

function showError(err) { error.textContent = err ? err.message : ""; }

function noteItem(note) {
  return aw.html`<li class="note${note.pinned ? " pinned" : ""}" data-id="${note.id}">
    <div class="view">
      <strong class="title">${note.title}</strong>
      <p class="body">${note.body}</p>
      <button type="button" data-action="pin">${note.pinned ? "Unpin" : "Pin"}</button>
      <button type="button" data-action="edit">Edit</button>
      <button type="button" data-action="delete">Delete</button>
    </div>
    <form class="edit" hidden>
      <input name="title" value="${note.title}" required maxlength="200" aria-label="Title">
      <textarea name="body" rows="3" aria-label="Note">${note.body}</textarea>
      <button type="submit">Save</button>
      <button type="button" data-action="cancel">Cancel</button>
    </form>
  </li>`;
}

async function refresh() {
  const notes = await aw.entities.Note.list({ sort: "-created_at" });
  notes.sort((a, b) => Number(b.pinned) - Number(a.pinned)); // pinned first, newest first within
  list.innerHTML = aw.html`${notes.map(noteItem)}`;
  document.getElementById("empty").hidden = notes.length > 0;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await aw.entities.Note.create({ title: form.title.value, body: form.body.value });
    form.reset();
    showError(null);
    await refresh();
  } catch (err) { showError(err); }
});

list.addEventListener("click", async (event) => {
  const action = event.target.dataset.action;
  const item = event.target.closest("li");
  if (!action || !item) return;
  const id = item.dataset.id;
  try {
    if (action === "delete") {
      await aw.entities.Note.remove(id);
      await refresh();
    } else if (action === "pin") {
      await aw.entities.Note.update(id, { pinned: !item.classList.contains("pinned") });
      await refresh();
    } else if (action === "edit" || action === "cancel") {
      item.querySelector(".view").hidden = action === "edit";
      item.querySelector(".edit").hidden = action !== "edit";
    }
    showError(null);
  } catch (err) { showError(err); }
});

list.addEventListener("submit", async (event) => {
  event.preventDefault();
  const edit = event.target;
  const id = edit.closest("li").dataset.id;
  try {
    await aw.entities.Note.update(id, { title: edit.title.value, body: edit.body.value });
    showError(null);
    await refresh();
  } catch (err) { showError(err); }
});

(async () => {
  await aw.ui.authForm("#auth");
  if (await aw.auth.me()) {
    document.getElementById("app").hidden = false;
    await refresh();
  }
})();

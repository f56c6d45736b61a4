// Guestbook: everyone reads (access "public_read" in app.json); signed-in users write
// entries and may change only their own. The buttons follow that rule; the server enforces it.
const form = document.getElementById("new-entry");
const list = document.getElementById("entries");
const error = document.getElementById("error");
let me = null; // the signed-in user, or null for a visitor
// Inputs are read through form.elements: `form.name` would read like the form's own name attribute.

function showError(err) { error.textContent = err ? err.message : ""; }

function when(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function entryItem(entry) {
  const mine = me !== null && entry.owner === me.id;
  const edited = entry.updated_at !== entry.created_at;
  return aw.html`<li class="entry card${mine ? " mine" : ""}" data-id="${entry.id}">
    <div class="view">
      <p class="message">${entry.message}</p>
      <p class="meta"><span class="name">${entry.name}</span>
        · <time datetime="${entry.created_at}">${when(entry.created_at)}</time>${edited ? " · edited" : ""}</p>
      ${mine ? aw.html`<div class="actions">
        <button type="button" data-action="edit">Edit</button>
        <button type="button" data-action="delete" class="danger">Delete</button>
      </div>` : ""}
    </div>
    ${mine ? aw.html`<form class="edit" hidden>
      <label>Your name <input name="name" value="${entry.name}" required maxlength="80"></label>
      <label>Message <textarea name="message" required maxlength="2000" rows="3">${entry.message}</textarea></label>
      <div class="actions">
        <button type="submit">Save</button>
        <button type="button" data-action="cancel">Cancel</button>
      </div>
    </form>` : ""}
  </li>`;
}

async function refresh() {
  const entries = await aw.entities.Entry.list({ sort: "-created_at" });
  list.innerHTML = aw.html`${entries.map(entryItem)}`;
  document.getElementById("empty").hidden = entries.length > 0;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await aw.entities.Entry.create({ name: form.elements.name.value, message: form.message.value });
    localStorage.setItem("guestbook-name", form.elements.name.value);
    form.message.value = "";
    showError(null);
    await refresh();
  } catch (err) { showError(err); }
});

list.addEventListener("click", async (event) => {
  const action = event.target.dataset.action;
  const item = event.target.closest("li");
  if (!action || !item) return;
  try {
    if (action === "delete") {
      await aw.entities.Entry.remove(item.dataset.id);
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
  try {
    await aw.entities.Entry.update(edit.closest("li").dataset.id,
                                   { name: edit.elements.name.value, message: edit.message.value });
    showError(null);
    await refresh();
  } catch (err) { showError(err); }
});

(async () => {
  try {
    await aw.ui.authForm("#auth");
    me = await aw.auth.me();
    form.hidden = me === null;
    document.getElementById("signin-hint").hidden = me !== null;
    form.elements.name.value = localStorage.getItem("guestbook-name") || "";
    await refresh();
  } catch (err) { showError(err); }
})();

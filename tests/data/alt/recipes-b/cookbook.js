// Grandma's cookbook: everyone reads; signed-in cooks add and remove their own recipes.
const Recipes = aw.entities.CookbookEntry;
const form = document.getElementById("new_recipe");
let user = null;

function quickestFirst(a, b) {
  const x = a.cooking_time ?? Infinity, y = b.cooking_time ?? Infinity;
  return x - y;
}

async function listRecipes() {
  const recipes = (await Recipes.list()).sort(quickestFirst);
  aw.ui.list("#recipes", recipes, r => aw.html`<li class="recipe">
    <b>${r.recipe_name}</b> ${r.category ? `(${r.category})` : ""} ${r.cooking_time ? `${r.cooking_time} min` : ""}
    <span class="ing">${r.ingredients || ""}</span>
    ${user && user.id === r.owner ? aw.html`<button type="button" class="del" data-id="${r.id}">Delete recipe</button>` : ""}
  </li>`, "The cookbook is empty.");
  const total = recipes.reduce((t, r) => t + (r.cooking_time || 0), 0);
  document.getElementById("minutes-total").textContent = "Minutes of all recipes together: " + total;
}

document.getElementById("recipes").addEventListener("click", async (e) => {
  if (!e.target.classList.contains("del")) return;
  if (!confirm("Delete this recipe?")) return;
  await Recipes.remove(e.target.dataset.id);
  listRecipes();
});

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const values = Object.fromEntries(new FormData(form));
  try {
    await aw.ui.busy(form, Recipes.create(values));
    form.reset();
    aw.ui.error("#error", null);
    listRecipes();
  } catch (err) {
    aw.ui.error("#error", err);
  }
});

(async () => {
  await aw.ui.authForm("#account");
  user = await aw.auth.me();
  form.hidden = !user;
  listRecipes();
})();

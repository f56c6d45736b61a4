// Family recipes: public to read, quickest first, with the minutes of all recipes added up.
const Dish = aw.entities.Dish;
const form = document.getElementById("dish-form");
let me = null;

async function showDishes() {
  let dishes = [];
  try {
    dishes = await Dish.list({sort: "cookMinutes"});
  } catch (err) {
    aw.ui.error("#problem", err);
  }
  const box = document.getElementById("dishes");
  if (!dishes.length) {
    box.textContent = "No recipes yet.";
  } else {
    box.innerHTML = String(aw.html`${dishes.map(d => aw.html`<article>
      <h2>${d.dishName}</h2>
      <p>${d.mealType || "any course"}${d.cookMinutes ? aw.html` · ${d.cookMinutes} minutes` : ""}</p>
      <pre>${d.ingredientList || ""}</pre>
      ${me && d.owner === me.id ? aw.html`<button type="button" data-id="${d.id}">Delete</button>` : ""}
    </article>`)}`);
  }
  const minutes = dishes.reduce((sum, d) => sum + (d.cookMinutes || 0), 0);
  document.getElementById("time-total").textContent = `Total cooking time: ${minutes} minutes`;
}

document.getElementById("dishes").addEventListener("click", async (e) => {
  if (e.target.dataset.id) {
    await Dish.remove(e.target.dataset.id);
    showDishes();
  }
});

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await aw.ui.busy(form, Dish.create(Object.fromEntries(new FormData(form))));
    form.reset();
    aw.ui.error("#problem", null);
    showDishes();
  } catch (err) {
    aw.ui.error("#problem", err);
  }
});

(async () => {
  await aw.ui.authForm("#auth-box");
  me = await aw.auth.me();
  document.getElementById("adder").hidden = !me;
  showDishes();
})();

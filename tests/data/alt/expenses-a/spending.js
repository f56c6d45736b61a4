// Spending log: everyone signed in sees every purchase; only the buyer can delete one.
const Purchase = aw.entities.Purchase;
const form = document.getElementById("add-purchase");
let me = null;

function money(n) {
  return String(Math.round(n * 100) / 100);
}

async function refresh() {
  let purchases = [];
  try {
    purchases = await Purchase.list({sort: "-date"});
    aw.ui.error("#msg", null);
  } catch (err) {
    aw.ui.error("#msg", err);
  }
  const rows = document.getElementById("rows");
  rows.innerHTML = String(aw.html`${purchases.map(p => aw.html`<tr>
      <td>${p.item}</td><td class="money">${money(p.cost)}</td><td>${p.kind || ""}</td><td>${p.date || ""}</td>
      <td>${me && p.owner === me.id ? aw.html`<button type="button" data-id="${p.id}">Delete</button>` : ""}</td>
    </tr>`)}`);
  document.getElementById("nothing").hidden = purchases.length > 0;
  const total = purchases.reduce((s, p) => s + Number(p.cost || 0), 0);
  document.getElementById("sum").textContent = "Total spent: " + money(total);
}

document.getElementById("rows").addEventListener("click", async (e) => {
  const id = e.target.dataset.id;
  if (!id) return;
  try { await Purchase.remove(id); } catch (err) { aw.ui.error("#msg", err); }
  refresh();
});

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await aw.ui.busy(form, Purchase.create(Object.fromEntries(new FormData(form))));
    form.reset();
    refresh();
  } catch (err) {
    aw.ui.error("#msg", err);
  }
});

(async () => {
  await aw.ui.authForm("#signin");
  me = await aw.auth.me();
  form.hidden = document.getElementById("log").hidden = !me;
  if (me) refresh();
})();

// Where my money goes: a shared list of spends, priced, with a running sum.
const Spend = aw.entities.Spend;
const spendForm = document.getElementById("spend-form");
const err = spendForm.querySelector(".err");
let me;

async function draw() {
  const spends = await Spend.list({sort: "-created_at"});
  aw.ui.list("#spend-list", spends, s => aw.html`<li>
    <span>${s.whatFor} (${s.spendType || "other"}, ${s.paidOn || "undated"})</span>
    <span>${s.price.toFixed(2)}
      ${s.owner === me.id ? aw.html`<button type="button" aria-label="Remove" data-spend="${s.id}">×</button>` : ""}</span>
  </li>`, "No spending recorded yet.");
  let sum = 0;
  for (const s of spends) sum += s.price;
  document.getElementById("footer").textContent = `Sum of everything listed: ${Math.round(sum * 100) / 100}`;
}

document.getElementById("spend-list").addEventListener("click", async (e) => {
  const id = e.target.dataset.spend;
  if (id && confirm("Remove this spend?")) {
    await Spend.remove(id);
    draw();
  }
});

spendForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = new FormData(spendForm);
  const spend = {whatFor: data.get("whatFor"), price: data.get("price")};
  if (data.get("spendType")) spend.spendType = data.get("spendType");
  if (data.get("paidOn")) spend.paidOn = data.get("paidOn");
  try {
    await Spend.create(spend);
    spendForm.reset();
    err.textContent = "";
    draw();
  } catch (e2) {
    err.textContent = e2.message;
  }
});

(async () => {
  await aw.ui.authForm("#login");
  me = await aw.auth.me();
  if (!me) return;
  spendForm.hidden = false;
  document.getElementById("spends").hidden = false;
  draw();
})();

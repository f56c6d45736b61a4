// Book a room: each person's own bookings, soonest day first, searchable by room.
const Bookings = aw.entities.RoomBooking;
const form = document.getElementById("booking-form");
const finder = document.getElementById("room-finder");
let bookings = [];

function showBookings() {
  const needle = finder.value.trim().toLowerCase();
  const shown = bookings.filter(b => b.roomName.toLowerCase().includes(needle));
  aw.ui.list("#bookings", shown, b => aw.html`<li>
    <time>${b.bookedFor}</time> <strong>${b.roomName}</strong>
    ${b.peopleCount ? aw.html`for ${b.peopleCount}` : ""} ${b.whatFor ? aw.html`: ${b.whatFor}` : ""}
    <button type="button" data-id="${b.id}">Remove</button>
  </li>`, needle ? "No booking for that room." : "No bookings yet.");
}

async function loadBookings() {
  bookings = await Bookings.list({sort: "bookedFor"});
  showBookings();
}

finder.addEventListener("input", showBookings);
document.getElementById("bookings").addEventListener("click", async (e) => {
  if (e.target.dataset.id) {
    await Bookings.remove(e.target.dataset.id);
    loadBookings();
  }
});
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const error = form.querySelector(".error");
  try {
    await Bookings.create(Object.fromEntries(new FormData(form)));
    form.reset();
    error.textContent = "";
    loadBookings();
  } catch (err) {
    error.textContent = err.message;
  }
});

(async () => {
  await aw.ui.authForm("#me");
  if (await aw.auth.me()) {
    document.getElementById("app").hidden = false;
    loadBookings();
  }
})();

// room booking: the entity that represents a booking
const E = aw.entities.Booking;

// the form: the code that gets called when the user clicks the button
document.getElementById("new").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.target;
  const room = form.elements["f-room"].value.trim();
  const day = form.elements["f-day"].value.trim();
  const attendees = form.elements["f-attendees"].value.trim();
  const purpose = form.elements["f-purpose"].value.trim();
  if (room === "") return aw.ui.error(form, "Room is required.");
  if (day === "") return aw.ui.error(form, "Day is required.");
  if (attendees === "") return aw.ui.error(form, "Attendees is required.");
  if (!/^\d+$/.test(attendees)) return aw.ui.error(form, "Attendees must be a whole number.");
  if (purpose === "") return aw.ui.error(form, "Purpose is required.");
  const record = { room, day, attendees, purpose };
  try {
    await E.list({ sort: "-created_at" });
    const existing = await E.list({ where: { room } });
    const index = existing.findIndex(r => r.room === record.room);
    if (index !== -1) {
      aw.ui.error(form, "A booking with that room already exists.");
      return;
    }
    await E.create(record);
    aw.ui.success("#list", "Booking added.");
    form.reset();
  } catch (err) {
    aw.ui.error("#list", err.message);
  }
});

// the list: the code that gets called when the user clicks the button
document.getElementById("list").addEventListener("click", async () => {
  try {
    const items = await E.list({ sort: "-created_at" });
    const total = items.length;
    aw.ui.list("#list", items, record => aw.html`<li><strong>${record.room}</strong>${record.day == null || record.day === "" ? "" : " · day: "}${record.day ?? ""}${record.attendees == null || record.attendees === "" ? "" : " · attendees: "}${record.attendees ?? ""}${record.purpose == null || record.purpose === "" ? "" : " · purpose: "}${record.purpose ?? ""}${record.created_at == null || record.created_at === "" ? "" : " · created at: "}${record.created_at ?? ""}${total == 0 ? "" : " · total: "}${total ?? ""}</li>`, total == 0 ? "" : "No bookings yet.");
  } catch (err) {
    aw.ui.error("#list", err.message);
  }
});

// the error: the code that gets called when the form is invalid
document.getElementById("error").addEventListener("click", () => {
  document.getElementById("new").reset();
});

// the list of bookings: the code that gets called when the user clicks the button
document.getElementById("list").addEventListener("click", async () => {
  try {
    const items = await E.list({ sort: "-created_at" });
    const total = items.length;
    aw.ui.list("#list", items, record => aw.html`<li><strong>${record.room}</strong>${record.day == null || record.day === "" ? "" : " · day: "}${record.day ?? ""}${record.attendees == null || record.attendees === "" ? "" : " · attendees: "}${record.attendees ?? ""}${record.purpose == null || record.purpose === "" ? "" : " · purpose: "}${record.purpose ?? ""}${record.created_at == null || record.created_at === "" ? "" : " · created at: "}${record.created_at ?? ""}${total == 0 ? "" : " · total: "}${total ?? ""}</li>`, total == 0 ? "" : "No bookings yet.");
  } catch (err) {
    aw.ui.error("#list", err.message);
  }
});

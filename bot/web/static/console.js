"use strict";
// The console's one script (a file, so the Content-Security-Policy allows no inline script).
// Pushed by the server (server-sent events): new handoffs reach the console within a second.
const stream = new EventSource("/console/events");
// open once the server has subscribed: from then on no alert is missed (tests wait for it)
stream.onopen = () => { document.body.dataset.live = "1"; };
// The browser retries a dropped stream by itself, but gives up on an error status (a Redis
// outage answers 503): then the page reloads in a while, and shows the outage or reconnects.
stream.onerror = () => {
  delete document.body.dataset.live;
  if (stream.readyState === EventSource.CLOSED) setTimeout(() => location.reload(), 15000);
};
const words = {"handoff.opened": "新的人工请求", "handoff.message": "村民发来新消息",
               "handoff.escalated": "有人工请求超时未接手", "handoff.claimed": "人工请求已被接手"};
// A form being sent navigates away by itself: a reload now would cancel it (the alert of the
// clerk's own transfer or reply arrives before the next page does).
let submitting = false;
document.addEventListener("submit", () => { submitting = true; });
stream.onmessage = (event) => {
  if (submitting) return;
  const alert = JSON.parse(event.data);
  const banner = document.getElementById("banner");
  banner.textContent = (words[alert.type] || "有新动态") + "（#" + alert.id + "）";
  banner.style.display = "block";
  // the queue refreshes when something changes (nothing is typed there); a handoff's page
  // when its own handoff does, unless a reply is being typed
  if (document.getElementById("queue")) location.reload();
  const handoff = document.getElementById("handoff");
  const reply = document.getElementById("reply-text");
  if (handoff && alert.id === Number(handoff.dataset.id) && (!reply || !reply.value)) {
    location.reload();
  }
};
// 「打印」 on the printable pages (受理回执, 一次性告知单): an inline onclick would be refused by
// the same policy.
const printButton = document.getElementById("print");
if (printButton) printButton.addEventListener("click", () => window.print());
// 「旋转」 turns a photo a quarter each click (phones send papers sideways)
document.addEventListener("click", (event) => {
  if (!event.target.matches("button.rotate")) return;
  const holder = event.target.closest(".photo");  // a thumbnail's, or the viewer's photo
  const image = holder ? holder.querySelector("img") : document.getElementById("photo");
  const turns = (Number(image.dataset.turns || 0) + 1) % 4;
  image.dataset.turns = String(turns);
  image.style.transform = "rotate(" + turns * 90 + "deg)";
  // A turn does not move the layout: on its side the photo would reach over the buttons
  // above it (and 「旋转」 could not be clicked again); room is made for it instead.
  const sideways = turns % 2 === 1;
  const [wide, high] = [image.offsetWidth, image.offsetHeight];
  image.style.margin = sideways ? Math.max(0, (wide - high) / 2) + "px " +
    Math.max(0, (high - wide) / 2) + "px" : "";
});
// 「常用回复」 fills the reply box, to be edited before sending
const saved = document.getElementById("saved-reply");
if (saved) saved.addEventListener("change", () => {
  if (saved.value) document.getElementById("reply-text").value = saved.value;
});

// Tells the server the viewer's time zone (a cookie read by console/web.py): pages show times in it.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  if (/^[A-Za-z0-9_+\/-]{1,64}$/.test(zone) && document.cookie.indexOf("tz=" + zone) === -1) {
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Strict";
  }
})();

// The live counts (an element with data-live="/api/live"): refreshed every few seconds without a reload,
// built with textContent only (nothing from the server is read as HTML).
(function () {
  var box = document.querySelector("[data-live]");
  if (!box || !window.fetch) { return; }
  function item(label, value) {
    var span = document.createElement("span");
    var count = document.createElement("b");
    span.appendChild(document.createTextNode(label + " "));
    count.textContent = String(value);
    span.appendChild(count);
    return span;
  }
  function show(live) {
    var parts = [document.createElement("span")];
    parts[0].textContent = "last 24 h:";
    var statuses = Object.keys(live.runs).sort();
    statuses.forEach(function (s) { parts.push(item(s, live.runs[s])); });
    if (!statuses.length) { var none = document.createElement("span"); none.textContent = "no runs"; parts.push(none); }
    var queue = item("review queue", live.review_queue);
    if (live.review_queue) {
      queue.appendChild(document.createTextNode(" (oldest " + Math.ceil(live.review_oldest_age_s / 60) + " min)"));
    }
    parts.push(queue, item("dead letters", live.dead_letters), item("quarantined", live.quarantined));
    box.replaceChildren.apply(box, parts);
    box.setAttribute("data-refreshed", new Date().toISOString());
  }
  function refresh() {
    fetch(box.getAttribute("data-live"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (live) { if (live) { show(live); } })
      .catch(function () {});
  }
  var every = Number(box.getAttribute("data-every") || "5000");
  setInterval(refresh, every);
})();

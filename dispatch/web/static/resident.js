// The resident page: the phone's location on request (sent as WGS-84, what browsers report), and the live status.
(function () {
  "use strict";
  var gps = document.getElementById("use-gps");
  if (gps) {
    gps.addEventListener("change", function () {
      var fields = ["lat", "lon", "crs"].map(function (id) { return document.getElementById(id); });
      if (!gps.checked) { fields.forEach(function (f) { f.disabled = true; }); return; }
      navigator.geolocation.getCurrentPosition(function (pos) {
        fields[0].value = pos.coords.latitude;
        fields[1].value = pos.coords.longitude;
        fields.forEach(function (f) { f.disabled = false; });
      }, function () {
        gps.checked = false;
        var note = document.getElementById("gps-note");
        note.textContent = note.dataset.denied;
      }, { enableHighAccuracy: true, timeout: 10000 });
    });
  }
  var form = document.getElementById("press-form");
  if (form) {
    // A second tap while the first is on its way sends the same idempotency key: still one incident.
    form.addEventListener("submit", function () { document.getElementById("press").setAttribute("aria-busy", "true"); });
  }
  var line = document.getElementById("status-line");
  if (line && window.EventSource) {
    var lang = document.documentElement.lang === "en" ? "en" : "zh";
    var source = new EventSource("/resident/events?incident=" + encodeURIComponent(line.dataset.incident) + "&lang=" + lang);
    source.onmessage = function (ev) {
      var data = JSON.parse(ev.data);
      line.textContent = data.line;
      line.dataset.status = data.status;
      if (data.closed) {
        source.close();
        var cancel = document.getElementById("cancel-form");
        if (cancel) { cancel.hidden = true; }
      }
    };
  }
})();

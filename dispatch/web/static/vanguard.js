// The vanguard page: share the phone's position on request (browsers report WGS-84, and the form says so).
(function () {
  "use strict";
  var button = document.getElementById("share-position");
  if (!button || !navigator.geolocation) { return; }
  button.addEventListener("click", function (ev) {
    var lat = document.getElementById("pos-lat");
    if (lat.value) { return; }
    ev.preventDefault();
    navigator.geolocation.getCurrentPosition(function (pos) {
      lat.value = pos.coords.latitude;
      document.getElementById("pos-lon").value = pos.coords.longitude;
      button.click();
    }, function () { button.setAttribute("aria-invalid", "true"); }, { enableHighAccuracy: true, timeout: 10000 });
  });
})();

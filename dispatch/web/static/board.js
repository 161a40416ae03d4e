// The staff board stays live: the server's event stream sends the newest timeline event id in this person's scope;
// when it differs from what the page shows, the list and map are fetched again (also after a reconnect).
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !window.EventSource) { return; }
  var source = new EventSource("/staff/events");
  source.onmessage = function (ev) {
    var newest = String(JSON.parse(ev.data).newest);
    if (newest === board.dataset.newest) { return; }
    fetch("/staff/board-fragment", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { board.innerHTML = html; board.dataset.newest = newest; })
      .catch(function () { /* the next change tries again */ });
  };
})();

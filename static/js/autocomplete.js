// Autocomplete for the search box: fills the <datalist> with service titles as the person types.
// The search works without it; this only saves typing.
(function () {
  "use strict";
  var input = document.querySelector("input[data-suggest-url]");
  if (!input || !window.fetch) {
    return;
  }
  var list = document.getElementById(input.getAttribute("list"));
  var timer = null;
  var lastQuery = "";

  function fill(items) {
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    items.forEach(function (item) {
      var option = document.createElement("option");
      option.value = item.title;
      list.appendChild(option);
    });
  }

  input.addEventListener("input", function () {
    var query = input.value.trim();
    clearTimeout(timer);
    if (query.length < 2 || query === lastQuery) {
      return;
    }
    timer = setTimeout(function () {
      lastQuery = query;
      var url = input.getAttribute("data-suggest-url") + "&q=" + encodeURIComponent(query);
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (data) { fill(data.suggestions || []); })
        .catch(function () { fill([]); });
    }, 150);
  });
})();

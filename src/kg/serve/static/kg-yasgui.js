// YASGUI on the build's endpoint: the project's prefixes, the named queries as examples.
// Nothing is fetched from elsewhere: no endpoint catalogue, no prefix or term look-ups.
(function () {
  "use strict";
  var element = document.getElementById("yasgui");
  var examples = JSON.parse(element.dataset.examples);
  var endpoint = new URL("/sparql", window.location.href).href;
  var yasgui = new Yasgui(element, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    persistenceId: null,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    yasqe: { value: element.dataset.start, autocompleters: ["variables", "prefixes"] },
  });
  var tab = yasgui.getTab();
  if (tab.getYasqe().getValue().indexOf("kgr:") < 0) {
    tab.setQuery(element.dataset.start);
  }
  var list = document.getElementById("examples");
  examples.forEach(function (example) {
    var item = document.createElement("li");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "example";
    button.textContent = example.name;
    button.title = example.question;
    button.addEventListener("click", function () {
      yasgui.getTab().setQuery(example.query);
    });
    item.appendChild(button);
    list.appendChild(item);
  });
  window.kgYasgui = yasgui;
})();

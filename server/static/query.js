/* The query page: YASGUI (static/yasgui/, served by this app) set up for BorderKG.
 *
 * Everything YASGUI would fetch from elsewhere is replaced by what this app serves: the
 * endpoint is the app's own /sparql (from the page, so it follows the request's host or
 * public_base), prefix completion uses the project's prefix table instead of prefix.cc,
 * and the class and property completers, which ask a third-party vocabulary service,
 * are left off. Errors in the service's one JSON shape are shown with their position. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("page-data").textContent);
  var endpoint = data.endpoint;
  var iriBase = data.iriBase;
  var downloads = document.getElementById("downloads");
  var RESULT_FORMATS = ["json", "xml", "csv", "tsv"];
  var GRAPH_FORMATS = ["turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads"];

  /* "name: <namespace>" for each entry of the server's prefix table (the page's data),
   * the form YASQE's prefix completer inserts. */
  function prefixDeclarations() {
    return Object.keys(data.prefixes).sort().map(function (name) {
      return name + ": <" + data.prefixes[name] + ">";
    });
  }

  /* An error answer of /sparql ({"error": {"message", "line", "column", "expected"}}) as
   * an element; undefined lets YASR's own renderer handle anything else. */
  function renderError(error) {
    var body;
    try {
      body = JSON.parse(error.text || "");
    } catch (e) {
      return undefined;
    }
    if (!body || !body.error || !body.error.message) { return undefined; }
    var details = body.error;
    var box = document.createElement("div");
    box.className = "borderkg-error";
    var message = document.createElement("p");
    message.className = "message";
    message.textContent = details.message;
    box.appendChild(message);
    if (details.line) {
      var where = document.createElement("p");
      where.className = "position";
      where.textContent = "line " + details.line + ", column " + details.column;
      box.appendChild(where);
    }
    if (details.expected) {
      var expected = document.createElement("p");
      expected.className = "expected";
      expected.textContent = "Expected: " + details.expected;
      box.appendChild(expected);
    }
    return box;
  }

  /* YASR's table renders every cell of every row through DOMPurify when DataTables asks
   * for the text it detects types, sorts and filters on, and again to size the columns:
   * 50,000 rows took twenty seconds before the first page showed. Those values are never
   * put into the page, so they are given as the plain value; cells that are displayed
   * (one page at a time) are still rendered and sanitised by YASR. */
  function fastTable() {
    var Table = Yasgui.Yasr.plugins.table;
    var columns = Table.prototype.getColumns;
    Table.prototype.getColumns = function () {
      return columns.call(this).map(function (column, index) {
        if (index === 0 || !column.render) { return column; }
        var render = column.render;
        column.render = function (value, type, row, meta) {
          if (value !== "" && type !== "display") { return value.value; }
          return render(value, type, row, meta);
        };
        return column;
      });
    };
    Table.defaults.tableConfig.autoWidth = false;
  }

  var NUMERIC = /#(integer|decimal|double|float|long|int|short|nonNegativeInteger|positiveInteger)$/;
  var CHART_ROWS = 50;
  var SVG = "http://www.w3.org/2000/svg";

  function isNumber(term) {
    return !!term && term.type === "literal" && NUMERIC.test(term.datatype || "");
  }

  function shortName(term) {
    if (!term) { return ""; }
    if (term.type !== "uri") { return term.value; }
    var cut = Math.max(term.value.lastIndexOf("/"), term.value.lastIndexOf("#"));
    return cut >= 0 && cut < term.value.length - 1 ? term.value.slice(cut + 1) : term.value;
  }

  function svgElement(name, attributes) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { element.setAttribute(key, attributes[key]); });
    return element;
  }

  /* A bar chart of an answer's first numeric column against its first other column, the
   * first CHART_ROWS rows in the answer's order: drawn as SVG here (no outside library),
   * text set as text, never as markup. */
  function ChartPlugin(yasr) {
    this.yasr = yasr;
    this.label = "Chart";
    this.priority = 5;
  }
  ChartPlugin.prototype.columns = function () {
    var results = this.yasr.results;
    var variables = results && results.getVariables && results.getVariables();
    var rows = variables && variables.length ? results.getBindings() : [];
    if (!rows.length) { return null; }
    var value = variables.filter(function (v) { return isNumber(rows[0][v]); })[0];
    if (!value) { return null; }
    var label = variables.filter(function (v) { return v !== value; })[0];
    return { rows: rows, value: value, label: label };
  };
  ChartPlugin.prototype.canHandleResults = function () { return !!this.columns(); };
  ChartPlugin.prototype.getIcon = function () {
    var icon = document.createElement("span");
    icon.textContent = "\u2587";
    return icon;
  };
  ChartPlugin.prototype.draw = function () {
    var found = this.columns();
    var el = this.yasr.resultsEl;
    el.textContent = "";
    if (!found) { return; }
    var shown = found.rows.slice(0, CHART_ROWS);
    var values = shown.map(function (row) { return Number(row[found.value] && row[found.value].value) || 0; });
    var top = Math.max.apply(null, values.map(Math.abs).concat([1]));
    var bar = 22, left = 220, width = 520;
    var svg = svgElement("svg", { "class": "borderkg-chart", width: left + width + 90,
                                  height: shown.length * bar + 10, role: "img" });
    shown.forEach(function (row, i) {
      var y = i * bar + 5;
      var name = svgElement("text", { x: left - 8, y: y + 15, "text-anchor": "end" });
      name.textContent = found.label ? shortName(row[found.label]) : String(i + 1);
      var rect = svgElement("rect", { x: left, y: y + 3, height: bar - 6,
                                      width: Math.abs(values[i]) / top * width,
                                      "data-value": values[i] });
      var figure = svgElement("text", { x: left + Math.abs(values[i]) / top * width + 6, y: y + 15 });
      figure.textContent = values[i].toLocaleString();
      svg.appendChild(name); svg.appendChild(rect); svg.appendChild(figure);
    });
    var caption = document.createElement("p");
    caption.className = "chart-caption";
    caption.textContent = found.value + (found.label ? " by " + found.label : "") +
      (found.rows.length > CHART_ROWS ? " (first " + CHART_ROWS + " of " + found.rows.length + " rows)" : "");
    el.appendChild(caption);
    el.appendChild(svg);
  };

  function configure() {
    fastTable();
    Yasgui.Yasr.registerPlugin("chart", ChartPlugin);
    Yasgui.Yasqe.forkAutocompleter("prefixes", {
      name: "storePrefixes", persistenceId: "borderkgPrefixes", get: prefixDeclarations()
    }, false);
    Yasgui.defaults.yasqe.autocompleters = ["storePrefixes", "variables"];
    Yasgui.Yasr.defaults.errorRenderers = [renderError];
    Yasgui.Yasr.plugins.table.defaults.openIriInNewWindow = false;
  }

  /* The update token typed on the page, sent with every request the editor makes (a
   * query ignores it); kept only in the field, so closing the page forgets it. */
  function tokenHeaders() {
    var field = document.getElementById("update-token");
    var token = field ? field.value.trim() : "";
    return token ? { Authorization: "Bearer " + token } : {};
  }

  function create() {
    return new Yasgui(document.getElementById("yasgui"), {
      requestConfig: {
        endpoint: endpoint, method: "POST",
        acceptHeaderSelect: "application/sparql-results+json",
        acceptHeaderGraph: "text/turtle",
        headers: tokenHeaders
      },
      copyEndpointOnNewTab: true,
      endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
      // one history per endpoint: a page behind another address starts its own
      persistenceId: "borderkg_" + endpoint,
      // a shared link names its endpoint; it is always asked here, never elsewhere
      populateFromUrl: function (config) {
        config.requestConfig = Object.assign({}, config.requestConfig, { endpoint: endpoint });
        return config;
      },
      yasqe: { value: data.prologue + "\n" + data.examples[0].query },
      yasr: { prefixes: data.prefixes }
    });
  }

  /* Links to project IRIs lead to their documents on this server. */
  function localLinks(event) {
    var a = event.target.closest && event.target.closest("a[href]");
    var href = a && a.getAttribute("href");
    if (href && href.indexOf(iriBase) === 0) {
      a.setAttribute("href", "/" + href.slice(iriBase.length));
    }
  }

  function showDownloads(tab) {
    downloads.innerHTML = "";
    var yasqe = tab.getYasqe();
    if (!yasqe || yasqe.getQueryMode() !== "query") { return; }
    var type = yasqe.getQueryType();
    var graph = type === "CONSTRUCT" || type === "DESCRIBE";
    downloads.appendChild(document.createTextNode("Download: "));
    (graph ? GRAPH_FORMATS : RESULT_FORMATS).forEach(function (name) {
      var a = document.createElement("a");
      a.textContent = name;
      a.href = endpoint + "?" + new URLSearchParams({ query: yasqe.getValue(), format: name });
      a.setAttribute("download", "results." + name);
      downloads.appendChild(a);
      downloads.appendChild(document.createTextNode(" "));
    });
  }

  /* The row cap's header, shown next to YASR's count (results are read once drawn). */
  function truncationNote(tab) {
    var yasr = tab.getYasr();
    var results = yasr && yasr.results;
    var headers = results && results.res && results.res.headers;
    var chip = yasr && yasr.rootEl.querySelector(".yasr_response_chip");
    if (!headers || !chip || headers.get("X-BorderKG-Truncated") !== "true") { return; }
    chip.textContent += " (truncated at " + headers.get("X-BorderKG-Row-Limit") + " rows)";
  }

  /* The table's page-size menu offers "All", which would draw every row of a large answer
   * at once; at most the largest page size is offered. */
  function pageSizesBounded(tab) {
    var yasr = tab.getYasr();
    var all = yasr && yasr.rootEl.querySelectorAll(".tableSizer option[value='-1']");
    Array.prototype.forEach.call(all || [], function (option) { option.remove(); });
  }

  function exampleButtons(yasgui) {
    var list = document.getElementById("examples");
    data.examples.forEach(function (example) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "example";
      button.textContent = example.title;
      button.title = example.description;
      button.addEventListener("click", function () {
        var yasqe = yasgui.getTab().getYasqe();
        yasqe.setValue(data.prologue + "\n" + example.query);
        yasqe.focus();
      });
      list.appendChild(button);
    });
  }

  configure();
  var yasgui = create();
  window.borderkgYasgui = yasgui;
  exampleButtons(yasgui);
  ["mouseover", "focusin", "click"].forEach(function (name) {
    document.getElementById("yasgui").addEventListener(name, localLinks, true);
  });
  yasgui.on("query", function (instance, tab) { showDownloads(tab); });
  yasgui.on("queryResponse", function (instance, tab) {
    tab.getYasr().once("drawn", function () { truncationNote(tab); pageSizesBounded(tab); });
  });
}());

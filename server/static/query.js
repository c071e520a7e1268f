/* The query page: a highlighted editor over a textarea, examples, and results from
 * /sparql fetched with the SPARQL protocol (POST form, Accept negotiated by query form). */
(function () {
  "use strict";

  var page = document.getElementById("query-page");
  var endpoint = page.dataset.endpoint;
  var iriBase = page.dataset.iriBase;
  var textarea = document.getElementById("query");
  var overlay = document.getElementById("highlight");
  var status = document.getElementById("status");
  var results = document.getElementById("results");
  var downloads = document.getElementById("downloads");
  var errorBox = document.getElementById("error");
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var examples = data.examples;
  var prefixes = data.prefixes;

  var RESULT_FORMATS = ["json", "xml", "csv", "tsv"];
  var GRAPH_FORMATS = ["turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads"];

  function refresh() {
    overlay.innerHTML = SparqlHighlight.highlight(textarea.value);
    overlay.scrollTop = textarea.scrollTop;
    overlay.scrollLeft = textarea.scrollLeft;
  }

  function setQuery(text) {
    textarea.value = text;
    refresh();
  }

  function link(iri) {
    var a = document.createElement("a");
    a.textContent = iri;
    a.href = iri.indexOf(iriBase) === 0 ? "/" + iri.slice(iriBase.length) : iri;
    return a;
  }

  function cell(term) {
    var td = document.createElement("td");
    if (!term) { return td; }
    if (term.type === "uri") {
      td.appendChild(link(term.value));
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
      td.className = "bnode";
    } else {
      td.textContent = term.value;
      var note = term["xml:lang"] ? "@" + term["xml:lang"] :
        term.datatype ? term.datatype.replace("http://www.w3.org/2001/XMLSchema#", "xsd:") : "";
      if (note) {
        var small = document.createElement("span");
        small.className = "dt";
        small.textContent = " " + note;
        td.appendChild(small);
      }
    }
    return td;
  }

  function table(data) {
    var vars = data.head.vars, t = document.createElement("table");
    t.className = "results-table";
    var head = t.createTHead().insertRow();
    vars.forEach(function (v) {
      var th = document.createElement("th");
      th.textContent = v;
      head.appendChild(th);
    });
    var body = t.createTBody();
    data.results.bindings.forEach(function (binding) {
      var row = body.insertRow();
      vars.forEach(function (v) { row.appendChild(cell(binding[v])); });
    });
    return t;
  }

  function showDownloads(text, form) {
    downloads.innerHTML = "";
    var formats = (form === "construct" || form === "describe") ? GRAPH_FORMATS : RESULT_FORMATS;
    downloads.appendChild(document.createTextNode("Download: "));
    formats.forEach(function (name) {
      var a = document.createElement("a");
      a.textContent = name;
      a.href = endpoint + "?" + new URLSearchParams({ query: text, format: name }).toString();
      a.setAttribute("download", "results." + name);
      downloads.appendChild(a);
      downloads.appendChild(document.createTextNode(" "));
    });
  }

  function showError(body, httpStatus) {
    var error = (body && body.error) || { message: "HTTP " + httpStatus };
    var where = error.line ? " (line " + error.line + ", column " + error.column + ")" : "";
    errorBox.textContent = error.message + where +
      (error.expected ? "\nExpected: " + error.expected : "");
    errorBox.hidden = false;
    status.textContent = "Error " + httpStatus;
  }

  function render(response, form, started) {
    var ms = Math.round(performance.now() - started);
    var truncated = response.headers.get("X-BorderKG-Truncated") === "true";
    var note = truncated ? " — truncated at " + response.headers.get("X-BorderKG-Row-Limit") +
      " rows" : "";
    if (form === "construct" || form === "describe") {
      return response.text().then(function (text) {
        var pre = document.createElement("pre");
        pre.className = "sparql";
        pre.textContent = text;
        results.appendChild(pre);
        status.textContent = "Graph in " + ms + " ms" + note;
      });
    }
    return response.json().then(function (data) {
      if (data.boolean !== undefined) {
        var p = document.createElement("p");
        p.className = "boolean";
        p.textContent = data.boolean ? "true" : "false";
        results.appendChild(p);
        status.textContent = "Answer in " + ms + " ms";
        return;
      }
      results.appendChild(table(data));
      var n = data.results.bindings.length;
      status.textContent = n + (n === 1 ? " row" : " rows") + " in " + ms + " ms" + note;
    });
  }

  function run() {
    var text = textarea.value;
    var form = SparqlHighlight.queryForm(text);
    results.innerHTML = "";
    downloads.innerHTML = "";
    errorBox.hidden = true;
    if (form === "update") {
      showError({ error: { message: "This page runs queries; send updates to " + endpoint +
        " with your token (see the service description)." } }, 400);
      return;
    }
    var graph = form === "construct" || form === "describe";
    status.textContent = "Running…";
    var started = performance.now();
    fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded",
                 "Accept": graph ? "text/turtle" : "application/sparql-results+json" },
      body: new URLSearchParams({ query: text }).toString()
    }).then(function (response) {
      if (!response.ok) {
        return response.json().catch(function () { return null; })
          .then(function (body) { showError(body, response.status); });
      }
      showDownloads(text, form);
      return render(response, form, started);
    }).catch(function (err) {
      showError({ error: { message: "The request failed: " + err } }, "—");
    });
  }

  function exampleButtons() {
    var list = document.getElementById("examples");
    examples.forEach(function (example) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "example";
      button.textContent = example.title;
      button.title = example.description;
      button.addEventListener("click", function () {
        setQuery(prefixes + "\n" + example.query);
        textarea.focus();
      });
      list.appendChild(button);
    });
  }

  textarea.addEventListener("input", refresh);
  textarea.addEventListener("scroll", function () {
    overlay.scrollTop = textarea.scrollTop;
    overlay.scrollLeft = textarea.scrollLeft;
  });
  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    } else if (event.key === "Tab" && !event.shiftKey) {
      event.preventDefault();
      var start = textarea.selectionStart;
      textarea.setRangeText("  ", start, textarea.selectionEnd, "end");
      refresh();
    }
  });
  document.getElementById("run").addEventListener("click", run);
  exampleButtons();
  var initial = new URLSearchParams(window.location.search).get("query");
  setQuery(initial || prefixes + "\n" + examples[0].query);
}());

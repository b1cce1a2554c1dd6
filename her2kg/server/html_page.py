"""The query page served at GET /sparql to browsers: a textarea, a run button and a results
table, with the competency questions (`queries/cq/*.rq`) as clickable examples.

The page has no external assets. Its one script and one style sheet are inline and allowed by
their SHA-256 hashes in the Content-Security-Policy; results are put in the table as text
(never as HTML), so a literal in the data cannot inject markup.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from dataclasses import dataclass
from pathlib import Path

from her2kg.query_header import HeaderError, read_header


@dataclass(frozen=True)
class Example:
    name: str
    title: str
    query: str


@dataclass(frozen=True)
class Page:
    html: str
    content_security_policy: str


def load_examples(folder: Path) -> tuple[Example, ...]:
    """The `*.rq` files of a folder, titled by their `# question:` header line."""
    if not folder.is_dir():
        return ()
    examples: list[Example] = []
    for path in sorted(folder.glob("*.rq")):
        try:
            header = read_header(path, strict=False)
        except (OSError, UnicodeDecodeError, HeaderError):
            continue
        title = header.get("question") or path.stem
        examples.append(Example(name=path.stem, title=title, query=header.text))
    return tuple(examples)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1d1d1f; max-width: 80rem; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
p.lead { margin: 0 0 1rem; color: #444; }
main { display: grid; grid-template-columns: minmax(14rem, 22rem) 1fr; gap: 1.5rem; }
#examples { list-style: none; padding: 0; margin: 0; }
#examples li { margin: 0 0 .4rem; }
#examples button { text-align: left; width: 100%; background: #f3f5f8; border: 1px solid #d0d7de;
  border-radius: 4px; padding: .35rem .5rem; cursor: pointer; font: inherit; font-size: .9rem; }
#examples button:hover { background: #e6ebf1; }
textarea { width: 100%; min-height: 14rem; font-family: ui-monospace, monospace; font-size: .9rem; box-sizing: border-box; }
#run { margin: .5rem 0; padding: .4rem 1.2rem; font: inherit; cursor: pointer; }
#status { margin-left: 1rem; color: #555; }
#status.error { color: #b00020; }
table { border-collapse: collapse; margin-top: .5rem; font-size: .85rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f5f8; }
pre { background: #f6f8fa; padding: .5rem; overflow: auto; }
"""

_SCRIPT = """
(function () {
  "use strict";
  var endpoint = window.location.pathname;
  var query = document.getElementById("query");
  var status = document.getElementById("status");
  var table = document.getElementById("results");
  var raw = document.getElementById("raw");
  var examples = JSON.parse(document.getElementById("example-data").textContent);
  var list = document.getElementById("examples");
  examples.forEach(function (example) {
    var item = document.createElement("li");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "example";
    button.textContent = example.title;
    button.title = example.name;
    button.addEventListener("click", function () { query.value = example.query; run(); });
    item.appendChild(button);
    list.appendChild(item);
  });
  if (examples.length === 0) {
    var none = document.createElement("li");
    none.textContent = "No example questions are installed.";
    list.appendChild(none);
  }
  function cell(tag, text) {
    var element = document.createElement(tag);
    element.textContent = text;
    return element;
  }
  function show(data) {
    table.textContent = "";
    raw.textContent = "";
    var head = document.createElement("tr");
    if (typeof data.boolean === "boolean") {
      head.appendChild(cell("th", "answer"));
      table.appendChild(head);
      var row = document.createElement("tr");
      row.appendChild(cell("td", String(data.boolean)));
      table.appendChild(row);
      return 1;
    }
    var vars = data.head.vars;
    vars.forEach(function (name) { head.appendChild(cell("th", name)); });
    table.appendChild(head);
    data.results.bindings.forEach(function (binding) {
      var tr = document.createElement("tr");
      vars.forEach(function (name) {
        var term = binding[name];
        tr.appendChild(cell("td", term ? term.value : ""));
      });
      table.appendChild(tr);
    });
    return data.results.bindings.length;
  }
  function run() {
    status.className = "";
    status.textContent = "running...";
    var started = Date.now();
    fetch(endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/sparql-query",
        "Accept": "application/sparql-results+json, text/turtle;q=0.9"
      },
      body: query.value
    }).then(function (response) {
      return response.text().then(function (text) {
        var seconds = ((Date.now() - started) / 1000).toFixed(2);
        if (!response.ok) {
          table.textContent = "";
          raw.textContent = "";
          status.className = "error";
          status.textContent = "Error " + response.status + ": " + text;
          return;
        }
        var truncated = response.headers.get("X-Her2kg-Truncated") ? " (truncated at the server's limit)" : "";
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("json") >= 0) {
          var count = show(JSON.parse(text));
          status.textContent = count + " result(s) in " + seconds + " s" + truncated;
        } else {
          table.textContent = "";
          raw.textContent = text;
          status.textContent = "graph in " + seconds + " s" + truncated;
        }
      });
    }).catch(function (error) {
      status.className = "error";
      status.textContent = "Request failed: " + error;
    });
  }
  document.getElementById("run").addEventListener("click", run);
  query.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { run(); }
  });
})();
"""

_DEFAULT_QUERY = """PREFIX h: <https://w3id.org/her2kg/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?class ?label WHERE {
  ?class a <http://www.w3.org/2002/07/owl#Class> .
  OPTIONAL { ?class rdfs:label ?label }
} ORDER BY ?class LIMIT 25
"""


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def render_page(examples: tuple[Example, ...]) -> Page:
    """The HTML page and the Content-Security-Policy that goes with it."""
    data = json.dumps([{"name": e.name, "title": e.title, "query": e.query} for e in examples], ensure_ascii=True)
    data = data.replace("</", "<\\/")
    document = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>her2kg SPARQL endpoint</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>her2kg SPARQL endpoint</h1>
<p class="lead">SPARQL 1.1 over the her2kg knowledge base. Read-only. Queries stop after the
server's time limit; SERVICE, LOAD and FROM are refused.</p>
<main>
<section aria-labelledby="examples-title">
<h2 id="examples-title">Competency questions</h2>
<ul id="examples"></ul>
</section>
<section aria-labelledby="query-title">
<h2 id="query-title">Query</h2>
<textarea id="query" spellcheck="false" aria-label="SPARQL query">{html.escape(_DEFAULT_QUERY)}</textarea>
<div><button id="run" type="button">Run</button><span id="status" role="status"></span></div>
<table id="results"></table>
<pre id="raw"></pre>
</section>
</main>
<script type="application/json" id="example-data">{data}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""
    policy = (
        f"default-src 'none'; script-src {_hash(_SCRIPT)}; style-src {_hash(_STYLE)}; "
        "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return Page(html=document, content_security_policy=policy)

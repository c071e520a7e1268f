/* A small SPARQL syntax highlighter: text in, HTML with <span class="tok-..."> out.
 *
 * One regular expression with a named group per token kind, tried in order at each
 * position — the same approach as graph/sparql_text.py's lexer, so strings, IRIs and
 * comments hide the keywords inside them. Everything is HTML-escaped; unknown characters
 * pass through as plain text. No dependencies, no network. */
(function (global) {
  "use strict";

  var KEYWORDS = ("BASE PREFIX SELECT CONSTRUCT DESCRIBE ASK WHERE FROM NAMED GRAPH OPTIONAL " +
    "UNION MINUS FILTER BIND VALUES SERVICE SILENT EXISTS NOT IN AS DISTINCT REDUCED ORDER BY " +
    "ASC DESC LIMIT OFFSET GROUP HAVING LOAD CLEAR DROP CREATE ADD MOVE COPY INSERT DELETE DATA " +
    "WITH USING DEFAULT ALL INTO TO UNDEF A TRUE FALSE LATERAL").split(" ");
  var FUNCTIONS = ("COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR STR LANG LANGMATCHES " +
    "DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT STRLEN UCASE LCASE " +
    "ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER YEAR MONTH DAY HOURS MINUTES " +
    "SECONDS TIMEZONE TZ NOW UUID STRUUID MD5 SHA1 SHA256 SHA384 SHA512 COALESCE IF STRLANG " +
    "STRDT SAMETERM ISIRI ISURI ISBLANK ISLITERAL ISNUMERIC REGEX SUBSTR REPLACE").split(" ");
  var KEYWORD_SET = {}, FUNCTION_SET = {};
  KEYWORDS.forEach(function (k) { KEYWORD_SET[k] = true; });
  FUNCTIONS.forEach(function (f) { FUNCTION_SET[f] = true; });

  var TOKEN = new RegExp([
    "(#[^\\n]*)",                                                  // 1 comment
    "(<[^<>\"{}|^`\\\\\\s]*>)",                                   // 2 IRI
    "('''[\\s\\S]*?'''|\"\"\"[\\s\\S]*?\"\"\"|'(?:[^'\\\\\\n]|\\\\.)*'|\"(?:[^\"\\\\\\n]|\\\\.)*\")", // 3 string
    "([?$][A-Za-z0-9_\\u00B7\\u00C0-\\uFFFF]+)",                 // 4 variable
    "(_:[A-Za-z0-9_.\\-]*)",                                       // 5 blank node
    "((?:[A-Za-z][\\w.\\-]*)?:(?:[\\w\\-:%.]|\\\\.)*)",           // 6 prefixed name
    "(@[A-Za-z]+(?:-[A-Za-z0-9]+)*)",                              // 7 language tag
    "([A-Za-z_][A-Za-z0-9_]*)",                                    // 8 word
    "(\\d+(?:\\.\\d*)?(?:[eE][+-]?\\d+)?)"                         // 9 number
  ].join("|"), "g");
  var KINDS = [null, "comment", "iri", "string", "var", "bnode", "pname", "lang", "word", "number"];

  function escape(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function span(kind, text) {
    return '<span class="tok-' + kind + '">' + escape(text) + "</span>";
  }

  function wordKind(word) {
    var upper = word.toUpperCase();
    if (KEYWORD_SET[upper]) { return "keyword"; }
    if (FUNCTION_SET[upper]) { return "function"; }
    return null;
  }

  /* HTML for ``text``; a trailing newline gets a space so the overlay keeps its height. */
  function highlight(text) {
    var out = [], last = 0, match;
    TOKEN.lastIndex = 0;
    while ((match = TOKEN.exec(text)) !== null) {
      if (match[0] === "") { TOKEN.lastIndex += 1; continue; }
      out.push(escape(text.slice(last, match.index)));
      var kind = null;
      for (var i = 1; i < KINDS.length; i++) {
        if (match[i] !== undefined) { kind = KINDS[i]; break; }
      }
      if (kind === "word") { kind = wordKind(match[0]); }
      out.push(kind ? span(kind, match[0]) : escape(match[0]));
      last = TOKEN.lastIndex;
    }
    out.push(escape(text.slice(last)));
    if (text.slice(-1) === "\n" || text === "") { out.push(" "); }
    return out.join("");
  }

  /* The query form (select, ask, construct, describe) or "update", ignoring the prologue,
   * comments, strings and IRIs. */
  function queryForm(text) {
    var match;
    TOKEN.lastIndex = 0;
    while ((match = TOKEN.exec(text)) !== null) {
      if (match[0] === "") { TOKEN.lastIndex += 1; continue; }
      if (match[8] === undefined) { continue; }
      var word = match[8].toUpperCase();
      if (["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"].indexOf(word) >= 0) {
        return word.toLowerCase();
      }
      if (["INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"]
          .indexOf(word) >= 0) {
        return "update";
      }
    }
    return null;
  }

  global.SparqlHighlight = { highlight: highlight, queryForm: queryForm };
}(window));

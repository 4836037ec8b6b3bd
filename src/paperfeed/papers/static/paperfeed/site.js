// Renders LaTeX in abstracts and titles with the vendored KaTeX, on load and after htmx swaps.
// KaTeX reads text nodes only and runs with trust off, so nothing in a formula can become HTML or script.
(function () {
  "use strict";
  var options = {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false }
    ],
    throwOnError: false,
    trust: false,
    strict: "ignore",
    maxExpand: 200,
    ignoredTags: ["script", "noscript", "style", "textarea", "pre", "code", "option", "input"]
  };
  function renderMath(root) {
    if (window.renderMathInElement && root) {
      window.renderMathInElement(root, options);
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    renderMath(document.getElementById("main"));
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    renderMath(event.detail.elt || event.target);
  });
})();

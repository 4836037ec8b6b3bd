// Renders LaTeX in abstracts, titles and comments with the vendored KaTeX, on load and after htmx swaps.
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
    ignoredTags: ["script", "noscript", "style", "textarea", "pre", "code", "option", "input"],
    ignoredClasses: ["comment-body"]
  };
  // Comments arrive as Markdown rendered on the server, their maths already marked out as \(…\) and \[…\]:
  // a "$5 and $10" left in the text is money, not a formula.
  var commentOptions = Object.assign({}, options, {
    delimiters: [
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false }
    ],
    ignoredClasses: []
  });
  function renderMath(root) {
    if (!window.renderMathInElement || !root) {
      return;
    }
    window.renderMathInElement(root, options);
    var bodies = root.matches && root.matches(".comment-body") ? [root] : root.querySelectorAll(".comment-body");
    Array.prototype.forEach.call(bodies, function (body) {
      window.renderMathInElement(body, commentOptions);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    renderMath(document.getElementById("main"));
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    renderMath(event.detail.elt || event.target);
  });
})();

// Upvote buttons (community/_vote.html): a vote the server refuses (403, e.g. a banned account) comes back as the
// button with the reason beside it; htmx leaves error answers unswapped unless told, so tell it for these forms.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    if (event.detail.xhr.status === 403 && elt && elt.matches && elt.matches("form.vote")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();

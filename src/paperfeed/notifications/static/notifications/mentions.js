// @mention autocomplete in the comment forms. Progressive: the forms work without it, and an @name typed in full is
// linked by the server whether or not it was chosen here. After a pause in typing, the member names whose username
// starts with what follows the @ before the caret are asked of the server (members only, 8 at most) and offered in
// a list under the text: arrows to move, Enter or Tab to take one, Escape to close.
(function () {
  "use strict";
  var script = document.currentScript;
  var source = script && script.getAttribute("data-source");
  if (!source || !window.fetch) {
    return;
  }
  var FIELD = "form.comment-form textarea[name=body]";
  var BEFORE_CARET = /(^|[^A-Za-z0-9._@\/+-])@([A-Za-z0-9][A-Za-z0-9._-]{0,29})$/;
  var PAUSE_MS = 250;
  var timer = null;
  var asking = null;
  var open = null; // {field, list, start, options, index}

  function close() {
    if (!open) {
      return;
    }
    open.list.remove();
    open.field.setAttribute("aria-expanded", "false");
    open.field.removeAttribute("aria-activedescendant");
    open = null;
  }

  function typed(field) {
    var upto = field.value.slice(0, field.selectionStart);
    var match = BEFORE_CARET.exec(upto);
    return match ? { prefix: match[2], start: upto.length - match[2].length - 1 } : null;
  }

  function take(username) {
    var field = open.field;
    var before = field.value.slice(0, open.start);
    var after = field.value.slice(field.selectionStart);
    var inserted = "@" + username + " ";
    field.value = before + inserted + after;
    var caret = before.length + inserted.length;
    close();
    field.focus();
    field.setSelectionRange(caret, caret);
  }

  function highlight(index) {
    open.index = index;
    open.options.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    open.field.setAttribute("aria-activedescendant", open.options[index].id);
  }

  function show(field, start, members) {
    close();
    var list = document.createElement("ul");
    list.className = "mention-list";
    list.id = "mention-list-" + (field.id || "field");
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Members to mention");
    var options = members.map(function (member, i) {
      var option = document.createElement("li");
      option.id = list.id + "-" + i;
      option.setAttribute("role", "option");
      option.textContent = "@" + member.username;
      if (member.name) {
        var name = document.createElement("span");
        name.className = "hint";
        name.textContent = " " + member.name;
        option.appendChild(name);
      }
      option.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep the focus in the text
        take(member.username);
      });
      list.appendChild(option);
      return option;
    });
    field.insertAdjacentElement("afterend", list);
    field.setAttribute("aria-controls", list.id);
    field.setAttribute("aria-expanded", "true");
    open = { field: field, list: list, start: start, options: options, index: 0, members: members };
    highlight(0);
  }

  function lookUp(field) {
    var found = typed(field);
    if (!found) {
      close();
      return;
    }
    if (asking) {
      asking.abort();
    }
    asking = new AbortController();
    fetch(source + "?q=" + encodeURIComponent(found.prefix), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: asking.signal
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        var still = typed(field);
        if (!answer || !answer.members || !answer.members.length || !still || still.start !== found.start) {
          close();
          return;
        }
        show(field, found.start, answer.members);
      })
      .catch(function () {
        // Aborted by a newer keystroke, or the network: the form goes on without suggestions.
      });
  }

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches(FIELD)) {
      return;
    }
    field.setAttribute("aria-autocomplete", "list");
    clearTimeout(timer);
    timer = setTimeout(function () {
      lookUp(field);
    }, PAUSE_MS);
  });

  document.addEventListener("keydown", function (event) {
    if (!open || event.target !== open.field) {
      return;
    }
    var count = open.options.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      highlight((open.index + (event.key === "ArrowDown" ? 1 : count - 1)) % count);
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      take(open.members[open.index].username);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });

  document.addEventListener("focusout", function (event) {
    if (open && event.target === open.field) {
      close();
    }
  });
})();

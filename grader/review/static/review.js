// Keyboard shortcuts of the answer page: 1-9 toggle rubric items, c comment, s save,
// n save and next, j/k next/previous. Nothing else: the forms work without this file.
document.addEventListener("keydown", function (event) {
  var target = event.target;
  if (target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT") &&
      target.type !== "checkbox") {
    if (event.key === "Escape") { target.blur(); }
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) { return; }
  var click = function (id) { var e = document.getElementById(id); if (e) { e.click(); } };
  if (/^[1-9]$/.test(event.key)) {
    var box = document.querySelector('input[name="item"][data-key="' + event.key + '"]');
    if (box) { box.checked = !box.checked; }
  } else if (event.key === "c") {
    var comment = document.getElementById("comment");
    if (comment) { comment.focus(); event.preventDefault(); }
  } else if (event.key === "s") { click("save"); }
  else if (event.key === "n") { click("save-next"); }
  else if (event.key === "j") { click("next"); }
  else if (event.key === "k") { click("prev"); }
});

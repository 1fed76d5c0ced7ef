// Small behaviours without inline script (the Content-Security-Policy forbids it).
document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-print]");
  if (target) {
    event.preventDefault();
    window.print();
  }
});

// The grid tree's filter, as one types (the form also filters on the server).
document.addEventListener("input", (event) => {
  const input = event.target.closest("[data-filter-tree]");
  if (!input) return;
  const tree = document.querySelector(input.dataset.filterTree);
  if (!tree) return;
  const text = input.value.trim();
  tree.querySelectorAll("li").forEach((li) => {
    const hit = !text || li.textContent.includes(text);
    li.hidden = !hit;
    if (hit && text) li.querySelectorAll(":scope > details").forEach((d) => { d.open = true; });
  });
});

// rtsr-bench leaderboard page: sortable tables, charts (plotly.min.js, local), comparison sliders.
// No network access: everything this script uses is in the page or in this folder.
"use strict";

// --- sortable tables: click a header; a second click on the same header reverses the order ---
function compareCells(a, b) {
  // Numbers numerically, text alphabetically; empty (null) values always sort last.
  if (a === "" || b === "") return (a === "") - (b === "");
  const na = Number(a), nb = Number(b);
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  return a.localeCompare(b);
}

function sortTable(table, col, dir) {
  const tbody = table.tBodies[0];
  const rows = Array.from(tbody.rows);
  rows.sort((ra, rb) => {
    const a = ra.cells[col].dataset.sort, b = rb.cells[col].dataset.sort;
    let c = compareCells(a, b);
    if (a !== "" && b !== "" && dir === "desc") c = -c;
    return c || Number(ra.dataset.index) - Number(rb.dataset.index);
  });
  rows.forEach((r) => tbody.appendChild(r));
  Array.from(table.tHead.rows[0].cells).forEach((th, i) => {
    th.setAttribute("aria-sort", i === col ? (dir === "asc" ? "ascending" : "descending") : "none");
  });
}

function initTable(table) {
  Array.from(table.tHead.rows[0].cells).forEach((th, col) => {
    th.querySelector("button").addEventListener("click", () => {
      const now = th.getAttribute("aria-sort");
      const dir = now === "ascending" ? "desc" : now === "descending" ? "asc" : th.dataset.firstDir;
      sortTable(table, col, dir);
    });
  });
}

// --- charts: the figure JSON sits in a <script type="application/json"> next to its div ---
function initChart(div) {
  const fig = JSON.parse(document.getElementById(div.dataset.figure).textContent);
  const config = { displaylogo: false, responsive: true, showLink: false, showSendToCloud: false,
                   modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  Plotly.newPlot(div, fig.data, fig.layout, config).then(() => {
    const table = document.querySelector(`table[data-section="${div.dataset.section}"]`);
    const highlight = (model, on) => {
      Array.from(table.tBodies[0].rows).forEach((tr) => {
        if (tr.dataset.model === model) tr.classList.toggle("hl", on);
      });
    };
    div.on("plotly_hover", (ev) => ev.points.forEach((p) => p.customdata && highlight(p.customdata, true)));
    div.on("plotly_unhover", (ev) => ev.points.forEach((p) => p.customdata && highlight(p.customdata, false)));
  });
}

// --- before/after comparison: the left image is clipped to the slider's share of the width ---
function initCompare(fig) {
  const slider = fig.querySelector(".slider");
  const reveal = fig.querySelector(".reveal");
  const divider = fig.querySelector(".divider");
  const update = () => {
    reveal.style.width = `${slider.value}%`;
    divider.style.left = `${slider.value}%`;
  };
  slider.addEventListener("input", update);
  update();
  const pick = (sel, img) => sel.addEventListener("change", () => {
    img.src = sel.value;
    img.alt = sel.options[sel.selectedIndex].text;
  });
  pick(fig.querySelector(".pick-left"), fig.querySelector(".img-left"));
  pick(fig.querySelector(".pick-right"), fig.querySelector(".img-right"));
}

// --- provenance: a link to a closed <details> opens it ---
function openLinkedDetails() {
  const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target && target.tagName === "DETAILS") target.open = true;
}

document.addEventListener("DOMContentLoaded", () => {
  window.addEventListener("hashchange", openLinkedDetails);
  openLinkedDetails();
  document.querySelectorAll("table.sortable").forEach(initTable);
  document.querySelectorAll("figure.compare").forEach(initCompare);
  if (typeof Plotly === "undefined") {
    document.querySelectorAll(".chart").forEach((d) => {
      d.textContent = "The chart needs plotly.min.js next to index.html.";
    });
    return;
  }
  document.querySelectorAll(".chart").forEach(initChart);
});

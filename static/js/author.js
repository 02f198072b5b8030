// The authoring workspace's case builder: a poll shows only its kind's fields, and the rows of
// every list (options, therapy lines, teaching points, …) are added, moved by keyboard (Move up /
// Move down) or by drag. The page only orders the rows: it numbers their hidden ORDER fields
// 1, 2, … and the server turns that order into positions. Without JavaScript every field shows
// and the rows keep their order.

import { h } from "./dom.js";

const live = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
document.body.append(live);

function say(text) {
  live.textContent = "";
  window.setTimeout(() => {
    live.textContent = text;
  }, 50);
}

// ------------------------------------------------------------ kinds

/** Show the fields of the chosen kind only (elements with data-kinds="numeric", …). */
export function showKindFields(form) {
  const select = form.querySelector('select[name$="-kind"]');
  if (!select) return;
  for (const node of form.querySelectorAll("[data-kinds]")) {
    node.hidden = !node.dataset.kinds.split(" ").includes(select.value);
  }
}

for (const form of document.querySelectorAll("[data-poll-form]")) {
  showKindFields(form);
  const select = form.querySelector('select[name$="-kind"]');
  if (select) select.addEventListener("change", () => showKindFields(form));
}

// ------------------------------------------------------------ ordered rows

function rowsOf(list) {
  return [...list.children].filter((node) => node.matches("[data-row]"));
}

/** Number the hidden ORDER fields in the order the rows now stand; label the move buttons. */
function renumber(list) {
  const rows = rowsOf(list);
  rows.forEach((row, index) => {
    const order = row.querySelector('input[name$="-ORDER"]');
    if (order) order.value = String(index + 1);
    const up = row.querySelector('[data-move="up"]');
    const down = row.querySelector('[data-move="down"]');
    if (up) up.disabled = index === 0;
    if (down) down.disabled = index === rows.length - 1;
  });
}

function rowName(row) {
  const field = row.querySelector("input[type=text], textarea, select");
  return (field && field.value.trim()) || "Row";
}

function move(row, step) {
  const list = row.parentElement;
  const rows = rowsOf(list);
  const index = rows.indexOf(row);
  const target = index + step;
  if (target < 0 || target >= rows.length) return;
  if (step < 0) list.insertBefore(row, rows[target]);
  else list.insertBefore(row, rows[target].nextSibling);
  renumber(list);
  const button = row.querySelector(`[data-move="${step < 0 ? "up" : "down"}"]`);
  if (button && !button.disabled) button.focus();
  else row.querySelector(`[data-move="${step < 0 ? "down" : "up"}"]`)?.focus();
  say(`${rowName(row)}: moved to place ${target + 1} of ${rows.length}.`);
}

let dragged = null;

function enableRow(row) {
  for (const button of row.querySelectorAll("[data-move]")) button.hidden = false;
  row.querySelector('[data-move="up"]').addEventListener("click", () => move(row, -1));
  row.querySelector('[data-move="down"]').addEventListener("click", () => move(row, 1));
  const handle = row.querySelector('[data-move="drag"]');
  handle.addEventListener("dragstart", (event) => {
    dragged = row;
    row.classList.add("is-dragged");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", "");
  });
  handle.addEventListener("dragend", () => {
    row.classList.remove("is-dragged");
    dragged = null;
  });
  // The handle is for the mouse; keyboard users have the two buttons beside it.
  handle.tabIndex = -1;
  row.addEventListener("dragover", (event) => {
    if (!dragged || dragged === row || dragged.parentElement !== row.parentElement) return;
    event.preventDefault();
    const box = row.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    row.parentElement.insertBefore(dragged, after ? row.nextSibling : row);
    renumber(row.parentElement);
  });
  row.addEventListener("drop", (event) => {
    event.preventDefault();
    if (dragged) say(`${rowName(dragged)}: moved.`);
  });
}

for (const formset of document.querySelectorAll("[data-formset]")) {
  const list = formset.querySelector("[data-ordered]");
  const template = formset.querySelector("template[data-empty-row]");
  const total = formset.querySelector('input[name$="-TOTAL_FORMS"]');
  for (const row of rowsOf(list)) enableRow(row);
  renumber(list);
  const add = formset.querySelector("[data-add-row]");
  if (!add || !template || !total) continue;
  add.hidden = false;
  add.addEventListener("click", () => {
    const index = Number(total.value);
    // The server's own empty form, its "__prefix__" names and ids made those of the next row.
    const row = template.content.firstElementChild.cloneNode(true);
    for (const node of [row, ...row.querySelectorAll("*")]) {
      for (const name of ["name", "id", "for", "aria-describedby"]) {
        const value = node.getAttribute(name);
        if (value && value.includes("__prefix__")) node.setAttribute(name, value.replaceAll("__prefix__", String(index)));
      }
    }
    list.append(row);
    total.value = String(index + 1);
    enableRow(row);
    renumber(list);
    const first = row.querySelector("input:not([type=hidden]), textarea, select");
    if (first) first.focus();
  });
}

// A double click on a save button sends the form once (the server also ignores a repeat).
for (const form of document.querySelectorAll("form")) {
  form.addEventListener("submit", (event) => {
    if (form.dataset.sent === "true") event.preventDefault();
    form.dataset.sent = "true";
  });
}

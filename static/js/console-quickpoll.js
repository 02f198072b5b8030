// The console's quick poll: a question asked on the spot, without leaving the console. The form
// sends one `add_poll` frame (docs/protocol.md); the server checks it by the authoring
// workspace's rules and adds a draft to the agenda after the chosen case's polls. Ready-made
// questions fill the form (a 1–5 rating, a free-text question); nothing is cleared until the
// server has said yes, so a refused poll keeps what was typed.

import { gettext } from "./i18n.js";

const CHOICE_KINDS = ["single", "multi", "likert", "ranking"];

/** Ready-made quick polls: what each fills in. */
export const QUICK_PRESETS = {
  rating: {
    kind: "likert",
    question: gettext("How strongly do you agree with this plan?"),
    options: [gettext("1 — strongly disagree"), "2", "3", "4", gettext("5 — strongly agree")],
  },
  text: { kind: "text", question: gettext("In a word or two: what would you do next?"), options: [] },
};

/** The `add_poll` frame's fields from the form's values; options one per line, blank lines dropped. */
export function quickPollFields({ kind, question, options, min, max, unit, caseId, acknowledge = false }) {
  const fields = { kind, question: question.trim() };
  if (CHOICE_KINDS.includes(kind)) {
    fields.options = options
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
  }
  if (kind === "numeric") {
    if (min !== "") fields.min = Number(min);
    if (max !== "") fields.max = Number(max);
    if (unit.trim()) fields.unit = unit.trim();
  }
  if (caseId) fields.case = Number(caseId);
  // "I have checked the flagged text": sent only when ticked, as the workspace's box.
  if (acknowledge) fields.acknowledge = true;
  return fields;
}

/** Wire the quick-poll form: `send(fields, button)` sends the frame; returns {render, added}. */
export function createQuickPoll(form, send) {
  const field = (name) => form.elements.namedItem(name);
  const kind = field("kind");
  const caseSelect = field("case");
  const submit = form.querySelector('button[type="submit"]');

  function showKindFields() {
    for (const node of form.querySelectorAll("[data-kinds]")) {
      node.hidden = !node.dataset.kinds.split(" ").includes(kind.value);
    }
  }

  kind.addEventListener("change", showKindFields);
  for (const button of form.querySelectorAll("[data-preset]")) {
    button.addEventListener("click", () => {
      const preset = QUICK_PRESETS[button.dataset.preset];
      kind.value = preset.kind;
      field("question").value = preset.question;
      field("options").value = preset.options.join("\n");
      showKindFields();
      field("question").focus();
    });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const fields = quickPollFields({
      kind: kind.value,
      question: field("question").value,
      options: field("options").value,
      min: field("min").value,
      max: field("max").value,
      unit: field("unit").value,
      caseId: caseSelect.value,
      acknowledge: field("acknowledge_identifiers").checked,
    });
    send(fields, submit);
  });
  showKindFields();

  return {
    /** The agenda's cases as the choices of "Case"; the one on screen chosen until the moderator picks. */
    render(state) {
      const cases = (state && state.agenda) || [];
      const wanted = cases.map((c) => `${c.id}:${c.title}`).join("|");
      if (caseSelect.dataset.shape !== wanted) {
        const chosen = caseSelect.value;
        caseSelect.replaceChildren(
          ...cases.map((c) => {
            const option = document.createElement("option");
            option.value = String(c.id);
            option.textContent = c.title;
            return option;
          }),
        );
        caseSelect.dataset.shape = wanted;
        if (chosen && cases.some((c) => String(c.id) === chosen)) caseSelect.value = chosen;
      }
      if (!caseSelect.dataset.picked && state && state.case) caseSelect.value = String(state.case.id);
      submit.disabled = cases.length === 0 || submit.getAttribute("aria-busy") === "true";
    },
    /** The server added the poll: empty the form for the next one. */
    added() {
      field("question").value = "";
      field("options").value = "";
      field("min").value = "";
      field("max").value = "";
      field("unit").value = "";
      // A tick covers the poll it was given for, not the next one.
      field("acknowledge_identifiers").checked = false;
    },
    markPicked() {
      caseSelect.dataset.picked = "true";
    },
  };
}

// Audience questions, the pure part: similar-question suggestions while typing (clinical terms kept
// whole), the orders the screens show, and the DOM of one question on a phone, the console and
// the projector. Question text is participant input: it only ever goes through textContent (h()).

import { h } from "./dom.js";
import { gettext, interpolate, ngettext } from "./i18n.js";

export const MAX_QUESTION_LENGTH = 300;

// Terms that must stay one word: "CAR T" is neither "car" nor "t". Written as they are typed;
// each maps to the token it is compared as.
const CLINICAL_TERMS = [
  [/\bcar[\s-]?t(?:[\s-]?cells?)?\b/g, "car-t"],
  [/\bt[\s-]cells?\b/g, "t-cell"],
  [/\bnk[\s-]cells?\b/g, "nk-cell"],
  [/\bstem[\s-]cells?\b/g, "stem-cell"],
  [/\bpd[\s-]?l[\s-]?1\b/g, "pd-l1"],
  [/\bpd[\s-]?1\b/g, "pd-1"],
  [/\bctla[\s-]?4\b/g, "ctla-4"],
  [/\bher[\s-]?2\b/g, "her2"],
  [/\bbrca[\s-]?([12])\b/g, "brca$1"],
  [/\bmsi[\s-]h(?:igh)?\b/g, "msi-h"],
  [/\bide[\s-]cel\b/g, "ide-cel"],
  [/\bcilta[\s-]cel\b/g, "cilta-cel"],
  [/\bbi[\s-]?specifics?\b/g, "bispecific"],
  [/\bminimal residual disease\b|\bmrd\b/g, "mrd"],
  [/\bautologous (?:stem-cell )?transplant(?:ation)?\b|\basct\b/g, "asct"],
];

const STOP_WORDS = new Set(
  (
    "a an and are as at be by can could do does for from has have how i if in is it its may me my " +
    "of on or our should so than that the their them then there these they this to was we what " +
    "when where which who why will with would you your about after before any also into more most " +
    "not no other over such use used using vs versus patient patients"
  ).split(" "),
);

/** The words a question is compared by: lower case, clinical terms whole, stop words out. */
export function questionTokens(text) {
  let s = String(text || "")
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "");
  for (const [pattern, token] of CLINICAL_TERMS) s = s.replace(pattern, ` ${token} `);
  const tokens = s.match(/[a-z0-9]+(?:-[a-z0-9]+)*/g) || [];
  return [...new Set(tokens.filter((t) => !STOP_WORDS.has(t) && (t.length > 1 || /\d/.test(t))).map(stem))];
}

function stem(word) {
  // Plural and simple verb endings only: "relapses" ~ "relapse", "treated" ~ "treat".
  if (word.includes("-") || word.length < 5) return word;
  return word.replace(/(?:ies)$/, "y").replace(/(?:es|s|ed|ing)$/, "");
}

/** How alike two token lists are (0–1): shared words over the draft's words, weighting longer ones. */
export function similarity(draftTokens, otherTokens) {
  if (!draftTokens.length || !otherTokens.length) return 0;
  const other = new Set(otherTokens);
  const weight = (t) => (t.includes("-") || /\d/.test(t) ? 2 : 1);
  let shared = 0;
  let total = 0;
  for (const t of draftTokens) {
    total += weight(t);
    if (other.has(t)) shared += weight(t);
  }
  return shared / total;
}

/**
 * Questions already asked that look like the draft, most alike first (at most `limit`): the
 * phone offers them to upvote instead of asking again. Only questions the phone can upvote.
 */
export function similarQuestions(draft, items, { limit = 3, threshold = 0.5 } = {}) {
  const tokens = questionTokens(draft);
  if (tokens.length < 1 || String(draft).trim().length < 4) return [];
  return (items || [])
    .filter((q) => q.state === "approved" && !q.mine)
    .map((q) => ({ q, score: similarity(tokens, questionTokens(q.text)) }))
    .filter(({ score }) => score >= threshold)
    .sort((a, b) => b.score - a.score || b.q.votes - a.q.votes)
    .slice(0, limit)
    .map(({ q }) => q);
}

/** The projector's pick: the pinned question, and the top approved open questions by votes. */
export function pinnedQuestion(items) {
  return (items || []).find((q) => q.pinned && q.state === "approved") || null;
}

export function topQuestions(items, n = 5) {
  return (items || [])
    .filter((q) => q.state === "approved" && !q.answered && !q.pinned)
    .slice()
    .sort((a, b) => b.votes - a.votes || b.id - a.id)
    .slice(0, n);
}

export function votesText(n) {
  return interpolate(ngettext("%s vote", "%s votes", n), [n]);
}

/** The moderator's groups: questions waiting for a decision, shown ones, dismissed ones. */
export function consoleGroups(items) {
  const groups = { pending: [], approved: [], dismissed: [] };
  for (const q of items || []) (groups[q.state] || groups.dismissed).push(q);
  return groups;
}

// ------------------------------------------------------------------- DOM

/** One question on a phone: its text, who asked, its state and the upvote toggle. */
export function phoneQuestion(q, { onToggle, busy = false } = {}) {
  const badges = [];
  if (q.pinned) badges.push(h("span", { class: "q-badge q-badge-pinned", text: gettext("On screen") }));
  if (q.answered) badges.push(h("span", { class: "q-badge", text: gettext("Answered") }));
  if (q.state === "pending") badges.push(h("span", { class: "q-badge q-badge-pending", text: gettext("Awaiting moderation") }));
  if (q.mine) badges.push(h("span", { class: "q-badge q-badge-mine", text: gettext("Your question") }));
  const label = interpolate(q.voted ? gettext("Remove your vote (%s)") : gettext("Vote for this question (%s)"), [
    votesText(q.votes),
  ]);
  return h(
    "li",
    { class: `q-item q-${q.state}`, "data-testid": "question", "data-question": q.id },
    h(
      "button",
      {
        type: "button",
        class: "q-vote",
        "aria-pressed": q.voted ? "true" : "false",
        "aria-label": label,
        "data-testid": "question-upvote",
        disabled: busy || undefined,
        onclick: () => onToggle && onToggle(q),
      },
      h("span", { class: "q-vote-arrow", "aria-hidden": "true", text: "▲" }),
      h("span", { class: "q-vote-count", "data-testid": "question-votes", text: q.votes }),
    ),
    h(
      "div",
      { class: "q-body" },
      h("p", { class: "q-text", "data-testid": "question-text", text: q.text }),
      h("p", { class: "q-meta" }, q.name ? h("span", { class: "q-name", text: q.name }) : null, ...badges),
    ),
  );
}

/** One question on the console with the commands its state allows. */
export function consoleQuestion(q, { onCommand, mergeTargets = [] } = {}) {
  const button = (type, text, extra = {}) =>
    h("button", {
      type: "button",
      class: "button button-quiet",
      "data-testid": `question-${type.replace("_question", "")}`,
      text,
      onclick: (event) => onCommand && onCommand(type, { question: q.id, ...extra }, event.currentTarget),
    });
  const actions = [];
  if (q.merged_into) {
    actions.push(h("span", { class: "q-badge", text: interpolate(gettext("Merged into #%s"), [q.merged_into]) }));
  } else if (q.state === "pending") {
    actions.push(button("approve_question", gettext("Approve")), button("dismiss_question", gettext("Dismiss")));
  } else if (q.state === "approved") {
    actions.push(q.pinned ? button("unpin_question", gettext("Unpin")) : button("pin_question", gettext("Pin")));
    actions.push(q.answered ? button("restore_question", gettext("Reopen")) : button("answer_question", gettext("Answered")));
    actions.push(button("dismiss_question", gettext("Dismiss")));
  } else {
    actions.push(button("restore_question", gettext("Restore")));
  }
  if (!q.merged_into && mergeTargets.length) {
    const selectId = `merge-into-${q.id}`;
    const select = h(
      "select",
      { id: selectId, class: "q-merge-select", "data-testid": "question-merge-target" },
      h("option", { value: "", text: gettext("Merge into…") }),
      mergeTargets.filter((t) => t.id !== q.id).map((t) => h("option", { value: t.id, text: `#${t.id} ${t.text}` })),
    );
    actions.push(
      h("label", { class: "visually-hidden", for: selectId, text: interpolate(gettext("Merge question %s into"), [q.id]) }),
      select,
      h("button", {
        type: "button",
        class: "button button-quiet",
        "data-testid": "question-merge",
        text: gettext("Merge"),
        onclick: (event) => {
          const into = Number(select.value);
          if (into && onCommand) onCommand("merge_question", { question: q.id, into }, event.currentTarget);
        },
      }),
    );
  }
  return h(
    "li",
    { class: `q-item q-${q.state}`, "data-testid": "console-question", "data-question": q.id },
    h("p", { class: "q-votes", "data-testid": "question-votes", text: votesText(q.votes) }),
    h(
      "div",
      { class: "q-body" },
      h("p", { class: "q-text", "data-testid": "question-text" }, h("span", { class: "q-id", text: `#${q.id} ` }), q.text),
      h(
        "p",
        { class: "q-meta" },
        q.name ? h("span", { class: "q-name", text: q.name }) : null,
        q.pinned ? h("span", { class: "q-badge q-badge-pinned", text: gettext("Pinned") }) : null,
        q.answered ? h("span", { class: "q-badge", text: gettext("Answered") }) : null,
      ),
      h("div", { class: "q-actions actions" }, actions),
    ),
  );
}

/** A question on the projector: large when pinned, a row in the top list otherwise. */
export function stageQuestion(q, { large = false } = {}) {
  return h(
    large ? "div" : "li",
    { class: large ? "q-stage-pinned" : "q-stage-item", "data-testid": large ? "stage-pinned-question" : "stage-question", "data-question": q.id },
    h("p", { class: "q-stage-text", "data-testid": "question-text", text: q.text }),
    h(
      "p",
      { class: "q-stage-meta" },
      h("span", { "data-testid": "question-votes", text: votesText(q.votes) }),
      q.name ? h("span", { class: "q-name", text: ` · ${q.name}` }) : null,
    ),
  );
}

// Rendering shared by the three screens. Server data (case text, labels, references) is
// untrusted: every string goes through textContent or a checked attribute, never innerHTML.

import { h, heading, show } from "./dom.js";
import { gettext, interpolate, ngettext } from "./i18n.js";
import { CONNECTION_STATUS_TEXT } from "./live.js";

export { byTestId, changed, h, percent, plural, show } from "./dom.js";
export { renderResults } from "./charts.js";

export function setStatusPill(node, status) {
  node.dataset.state = status;
  node.textContent = CONNECTION_STATUS_TEXT[status] || status;
}

export const POLL_STATE_TEXT = {
  draft: gettext("Not open yet"),
  open: gettext("Poll open"),
  closed: gettext("Poll closed"),
};

// ------------------------------------------------------------------- case

// Whole phrases, so each language can order and inflect them ("Mujer de 67 años").
const PATIENT = {
  male: () => gettext("%(age)s-year-old man"),
  female: () => gettext("%(age)s-year-old woman"),
};
const ANY_PATIENT = () => gettext("%(age)s-year-old patient");

// The case is its author's text in the case's language (`case.language`, docs/protocol.md): its
// content carries lang="…" while the labels around it are the page's (translated). `lang` is the
// content's language; `labelLang` marks a label that is content too (a fact's own label).
function fact(label, value, testid, lang = null, labelLang = null) {
  if (value === null || value === undefined || value === "") return null;
  return h("div", { class: "fact" }, h("dt", { text: label, lang: labelLang }), h("dd", { "data-testid": testid, lang }, value));
}

/** How long since the diagnosis, for the case card ("Less than a year", "1 year", "4 years"). */
export function yearsText(years) {
  if (years === null || years === undefined) return null;
  if (years === 0) return gettext("Less than a year");
  return interpolate(ngettext("%s year", "%s years", years), [years]);
}

function therapyLine(line, level, lang) {
  const details = h(
    "dl",
    { class: "line-facts" },
    fact(gettext("Agents"), line.agents && line.agents.length ? line.agents.join(", ") : null, "line-agents", lang),
    fact(gettext("Transplant"), line.transplant, "line-transplant", lang),
    fact(gettext("Best response"), line.best_response, "line-response", lang),
    fact(gettext("Outcome"), line.outcome, "line-outcome", lang),
  );
  return h(
    "li",
    { class: "therapy-line", "data-testid": "therapy-line" },
    h(
      `h${Math.min(level, 6)}`,
      { class: "line-head" },
      h("span", { class: "line-number", text: interpolate(gettext("Line %s"), [line.line]) }),
      h("span", { class: "line-regimen", text: line.regimen, lang }),
    ),
    details,
  );
}

function caseSection(title, level, className, ...content) {
  return h(
    "section",
    { class: `case-part ${className}` },
    heading(level, { class: "case-part-title" }, title),
    ...content,
  );
}

/** The case's images as figures; `imagePath` is where the server serves them (/e/CODE/images/). */
export function caseImages(images, imagePath, lang = null) {
  if (!imagePath || !images || !images.length) return null;
  const figures = images.map((image) =>
    h(
      "figure",
      { class: "case-image", "data-testid": "case-image", lang },
      h("img", {
        src: `${imagePath}${image.id}`,
        alt: image.alt,
        width: String(image.width),
        height: String(image.height),
        loading: "lazy",
        decoding: "async",
      }),
      image.caption ? h("figcaption", { text: image.caption }) : null,
    ),
  );
  return h("div", { class: "case-images" }, figures);
}

/** The language a case's content is written in, when `state` carries that case (else null: the
 * content then inherits the page's language, the best guess without the case). Poll questions and
 * teaching points belong to a case and are its author's text too. */
export function caseLanguage(state, caseId) {
  return state && state.case && state.case.id === caseId ? state.case.language || null : null;
}

/** The case as a card; `level` is the heading level of its title; images come from `imagePath`. */
export function renderCase(data, { level = 2, imagePath = "" } = {}) {
  const patient = data.patient || {};
  const patientText = interpolate((PATIENT[patient.sex] || ANY_PATIENT)(), { age: patient.age }, true);
  const lang = data.language || null; // the case's own language, for its content (not the labels)
  const staging = (data.staging || []).map((s) => h("span", { class: "chip", text: `${s.system} ${s.value}` }));
  const card = h(
    "article",
    { class: "case-card", "data-testid": "case-body", "data-case-id": data.id },
    h(
      "header",
      { class: "case-header" },
      h("p", { class: "eyebrow", text: data.disease, lang }),
      heading(level, { class: "case-title", "data-testid": "case-title", lang }, data.title),
      h("p", { class: "case-patient", "data-testid": "case-patient", text: patientText }),
    ),
    h(
      "dl",
      { class: "case-facts" },
      fact(gettext("Diagnosis"), data.diagnosis, "case-diagnosis", lang),
      fact(gettext("Since diagnosis"), yearsText(data.years_since_diagnosis), "case-years"),
      fact(gettext("Staging"), staging.length ? h("span", { class: "chips" }, staging) : null, "case-staging", lang),
      fact("ECOG", data.ecog === null || data.ecog === undefined ? null : String(data.ecog), "case-ecog"),
    ),
  );
  const facts = (data.facts || []).filter((f) => f.revealed !== false);
  if (facts.length) {
    const items = facts.map((f) => {
      const node = fact(f.label, f.text, "case-fact", lang, lang);
      if (node && f.id !== undefined) node.dataset.factId = String(f.id);
      return node;
    });
    card.append(caseSection(gettext("Findings"), level + 1, "case-findings", h("dl", { class: "finding-list" }, items)));
  }
  if (data.history && data.history.length) {
    const items = data.history.map((item) => h("li", { text: item, lang }));
    card.append(caseSection(gettext("Medical history"), level + 1, "case-history", h("ul", { class: "plain-list" }, items)));
  }
  if (data.therapy_lines && data.therapy_lines.length) {
    const lines = data.therapy_lines.map((line) => therapyLine(line, level + 2, lang));
    card.append(caseSection(gettext("Treatment so far"), level + 1, "case-lines", h("ol", { class: "therapy-lines" }, lines)));
  }
  if (data.current_status) {
    card.append(caseSection(gettext("Now"), level + 1, "case-status", h("p", { text: data.current_status, lang })));
  }
  const images = caseImages(data.images, imagePath, lang);
  if (images) card.append(caseSection(gettext("Images"), level + 1, "case-images", images));
  if (data.clinical_question) {
    const question = h("p", { "data-testid": "case-question", text: data.clinical_question, lang });
    card.append(caseSection(gettext("Clinical question"), level + 1, "case-question", question));
  }
  return card;
}

let clockOffset = 0; // how far the server's clock is ahead of this device's, in ms

/** Learn the device's clock error from a `state` frame's `server_time`; countdowns then follow the server. */
export function syncClock(state) {
  if (state && typeof state.server_time === "number") clockOffset = state.server_time - Date.now();
}

/** The server's time now, as far as this device can tell (epoch ms). */
export function serverNow() {
  return Date.now() + clockOffset;
}

/** "Closes in 1:05" for a poll with a countdown (closes_at in epoch ms), or "" without one. */
export function countdownText(closesAt, now = serverNow()) {
  if (!closesAt) return "";
  const left = Math.max(0, Math.ceil((closesAt - now) / 1000));
  if (left === 0) return gettext("Closing…");
  return interpolate(gettext("Closes in %s"), [`${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`]);
}

/** Keep a countdown element up to date; call again whenever the poll changes. */
export function runCountdown(node, poll) {
  clearInterval(node.countdownTimer);
  const closesAt = poll && poll.state === "open" ? poll.closes_at : null;
  const tick = () => {
    node.textContent = countdownText(closesAt);
  };
  tick();
  show(node, Boolean(closesAt));
  if (closesAt) node.countdownTimer = setInterval(tick, 1000);
}

// ---------------------------------------------------------- teaching points

/** An absolute http(s) URL, normalised, or null (javascript:, data:, relative and broken ones). */
export function safeUrl(raw) {
  try {
    const url = new URL(raw);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** The links of a reference: [{href, text}] for its PMID, DOI, trial id and source URL, safe ones only. */
export function referenceLinks(ref) {
  const links = [];
  const add = (href, text) => {
    const url = safeUrl(href);
    if (url) links.push({ href: url, text });
  };
  if (ref.pmid) add(`https://pubmed.ncbi.nlm.nih.gov/${encodeURIComponent(ref.pmid)}/`, `PMID ${ref.pmid}`);
  if (ref.doi) add(`https://doi.org/${encodeURI(ref.doi)}`, `DOI ${ref.doi}`);
  if (ref.nct) add(`https://clinicaltrials.gov/study/${encodeURIComponent(ref.nct)}`, ref.nct);
  if (ref.url) add(ref.url, gettext("Source"));
  return links;
}

function reference(ref) {
  const links = referenceLinks(ref).map(({ href, text }) =>
    h("a", { href, target: "_blank", rel: "noopener noreferrer", text }),
  );
  return h(
    "li",
    { class: "reference", "data-testid": "reference" },
    h("span", { class: "citation", text: ref.citation }),
    links.length ? h("span", { class: "reference-links" }, links) : null,
  );
}

function paragraphs(text) {
  return String(text || "")
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => h("p", { text: p }));
}

/** Revealed teaching points with their references; `level` is the heading level of each title. */
export function renderTeachingPoints(container, points, { level = 3, languageOf = () => null } = {}) {
  container.replaceChildren(
    ...points.map((point) =>
      h(
        "article",
        { class: "teaching-point", "data-testid": "teaching-point", "data-teaching-point-id": point.id },
        heading(level, { class: "teaching-title", lang: languageOf(point.case) }, point.title),
        h("div", { class: "teaching-text", lang: languageOf(point.case) }, paragraphs(point.text)),
        point.references && point.references.length
          ? h(
              "div",
              { class: "references" },
              h("p", { class: "references-label", text: gettext("References") }),
              h("ol", { class: "reference-list" }, point.references.map(reference)),
            )
          : null,
      ),
    ),
  );
}

// When the identifier guard stops an event going live (`unacknowledged_identifiers`), the error
// frame names the cases whose text it flags (ids and titles, never the text): the console links
// each to its workspace page, at its findings, where the moderator reviews the text and ticks
// "I have checked the flagged text"; then starts again. The message itself is shown as sent.

import { h } from "./dom.js";
import { gettext, interpolate } from "./i18n.js";

/** The workspace address of each flagged case, from the page's `author_case_url` (case 0). */
export function findingLinks(error, authorCaseUrl) {
  if (!error || error.code !== "unacknowledged_identifiers" || !Array.isArray(error.cases) || !authorCaseUrl) return [];
  return error.cases
    .filter((c) => c && Number.isSafeInteger(c.id) && c.id > 0)
    .map((c) => ({
      href: `${authorCaseUrl.replace(/0\/$/, `${c.id}/`)}#findings`,
      text: interpolate(gettext("Review “%s” in the workspace"), [
        String(c.title || interpolate(gettext("case %s"), [c.id])),
      ]),
    }));
}

/** The links as a list (or null without any), each opening the case's page in a new tab so the console stays. */
export function findingList(error, authorCaseUrl) {
  const links = findingLinks(error, authorCaseUrl);
  if (links.length === 0) return null;
  return h(
    "ul",
    { class: "console-findings", "data-testid": "finding-links" },
    links.map((link) => h("li", {}, h("a", { href: link.href, target: "_blank", rel: "noopener" }, link.text))),
  );
}

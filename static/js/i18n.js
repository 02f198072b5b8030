// The page's language for the browser modules (issue 18, docs/i18n.md).
//
// The messages come from the same .po files as the server's (gettext domain "djangojs"): the
// server renders the catalogue of the page's language into the page as
// <script type="application/json" id="i18n-catalog"> (templates/base.html, caseboard/i18n.py).
// There is no second dictionary here. A message the catalogue lacks is shown in English (its
// msgid), so a page keeps working while a translation is missing.
//
// Mark strings with gettext()/ngettext()/pgettext() called by those names: `makemessages -d djangojs`
// finds them there, and tests/test_i18n.py checks every shipped language translates them.

let current = null;

/** The catalogue in use: the page's, read once, or the one a test set. */
function catalog() {
  if (current) return current;
  let data = {};
  const doc = globalThis.document;
  const node = doc && typeof doc.getElementById === "function" ? doc.getElementById("i18n-catalog") : null;
  if (node) {
    try {
      data = JSON.parse(node.textContent) || {};
    } catch {
      data = {}; // a broken catalogue leaves the page in English rather than blank
    }
  }
  const pageLang = doc && doc.documentElement && doc.documentElement.lang;
  current = normalise(data, pageLang);
  return current;
}

function normalise(data, fallbackLanguage) {
  const language = typeof data.language === "string" && data.language ? data.language : fallbackLanguage || "en";
  const match = /nplurals\s*=\s*(\d+)/.exec(data.plural || "");
  return {
    language,
    nplurals: match ? Number(match[1]) : 2,
    messages: data.messages && typeof data.messages === "object" ? data.messages : {},
  };
}

/** Use this catalogue ({language, plural, messages}, as caseboard/i18n.py renders it); null re-reads the page's. */
export function setCatalog(data) {
  current = data ? normalise(data, "en") : null;
}

/** The page's language code ("es"), for Intl and for lang attributes. */
export function pageLanguage() {
  return catalog().language;
}

export function gettext(msgid) {
  const found = catalog().messages[msgid];
  if (typeof found === "string" && found) return found;
  if (Array.isArray(found) && found[0]) return found[0];
  return msgid;
}

/** The catalogue's plural form for `count`. The CSP forbids evaluating the Plural-Forms formula,
 * so the form is picked by Intl.PluralRules (CLDR), which agrees with the shipped headers:
 * two forms, "one" first (docs/i18n.md). */
function pluralIndex(count, nplurals) {
  if (nplurals <= 1) return 0;
  let category;
  try {
    category = new Intl.PluralRules(pageLanguage()).select(count);
  } catch {
    category = count === 1 ? "one" : "other";
  }
  if (category === "one") return 0;
  if (nplurals > 2 && ["two", "few", "many"].includes(category)) return 1;
  return nplurals - 1;
}

export function ngettext(singular, plural, count) {
  const { messages, nplurals } = catalog();
  const forms = messages[singular];
  if (Array.isArray(forms)) {
    const form = forms[pluralIndex(count, nplurals)];
    if (form) return form;
  }
  return count === 1 ? singular : plural;
}

/** A message with a context (makemessages' msgctxt), for words that read differently by use. */
export function pgettext(context, msgid) {
  const found = catalog().messages[`${context}\u0004${msgid}`];
  return typeof found === "string" && found ? found : msgid;
}

/** Django's interpolate(): "%s of %s" with a list, or "%(name)s" with an object and named=true. */
export function interpolate(format, values, named = false) {
  if (named) {
    return format.replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
  }
  let index = 0;
  return format.replace(/%s/g, () => String(values[index++]));
}

/** A number in the page's language ("1,234.5", "1.234,5", "1 234,5"); "–" for nothing. */
export function formatNumber(value, options = {}) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  return new Intl.NumberFormat(pageLanguage(), { maximumFractionDigits: 1, ...options }).format(Number(value));
}

/** A percentage from a whole number of percent (42 gives "42%", "42 %" in French and German). */
export function formatPercent(percent, options = {}) {
  if (percent === null || percent === undefined || Number.isNaN(Number(percent))) return "–";
  return new Intl.NumberFormat(pageLanguage(), { style: "percent", maximumFractionDigits: 0, ...options }).format(
    Number(percent) / 100,
  );
}

/** A date (and time, with options) in the page's language. */
export function formatDate(date, options = { dateStyle: "medium" }) {
  const when = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(when.getTime())) return "–";
  return new Intl.DateTimeFormat(pageLanguage(), options).format(when);
}

/** A time of day ("14:05", "2:05 PM") in the page's language. */
export function formatTime(date) {
  return formatDate(date, { timeStyle: "short" });
}

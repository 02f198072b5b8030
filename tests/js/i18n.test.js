// i18n.js: the server-rendered catalogue, English when a message is missing, Intl formatting.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";

import { installFakeDom } from "./fake-dom.js";

import {
  formatDate,
  formatNumber,
  formatPercent,
  gettext,
  interpolate,
  ngettext,
  pageLanguage,
  pgettext,
  setCatalog,
} from "../../static/js/i18n.js";

// As caseboard/i18n.py renders it for Spanish.
const SPANISH = {
  language: "es",
  plural: "nplurals=2; plural=(n != 1);",
  messages: {
    Vote: "Votar",
    "%(count)s vote": ["%(count)s voto", "%(count)s votos"],
    "poll\u0004Round": "Ronda",
  },
};

afterEach(() => setCatalog(null));

describe("messages", () => {
  test("a translated message comes from the catalogue", () => {
    setCatalog(SPANISH);
    assert.equal(gettext("Vote"), "Votar");
    assert.equal(pgettext("poll", "Round"), "Ronda");
    assert.equal(pageLanguage(), "es");
  });

  test("a missing message stays in English rather than breaking the page", () => {
    setCatalog(SPANISH);
    assert.equal(gettext("Not in the catalogue"), "Not in the catalogue");
    assert.equal(ngettext("%(count)s answer", "%(count)s answers", 2), "%(count)s answers");
    assert.equal(pgettext("poll", "Close"), "Close");
  });

  test("plural forms follow the language's rule", () => {
    setCatalog(SPANISH);
    const text = (n) => interpolate(ngettext("%(count)s vote", "%(count)s votes", n), { count: n }, true);
    assert.equal(text(1), "1 voto");
    assert.equal(text(0), "0 votos");
    assert.equal(text(5), "5 votos");
    // French counts 0 as singular (CLDR and the shipped "n > 1" header agree).
    setCatalog({ language: "fr", plural: "nplurals=2; plural=(n > 1);", messages: { "%s vote": ["%s vote", "%s votes"] } });
    assert.equal(ngettext("%s vote", "%s votes", 0), "%s vote");
    assert.equal(ngettext("%s vote", "%s votes", 2), "%s votes");
  });

  test("without a catalogue in the page every text is English", () => {
    globalThis.document = { getElementById: () => null, documentElement: { lang: "en" } };
    try {
      setCatalog(null);
      assert.equal(gettext("Vote"), "Vote");
      assert.equal(ngettext("%s vote", "%s votes", 1), "%s vote");
      assert.equal(pageLanguage(), "en");
    } finally {
      delete globalThis.document;
    }
  });

  test("the page's catalogue is read from its JSON script; broken JSON falls back to English", () => {
    const page = (textContent) => ({
      getElementById: (id) => (id === "i18n-catalog" ? { textContent } : null),
      documentElement: { lang: "de" },
    });
    try {
      globalThis.document = page(JSON.stringify({ language: "de", plural: "nplurals=2;", messages: { Vote: "Abstimmen" } }));
      setCatalog(null);
      assert.equal(gettext("Vote"), "Abstimmen");
      globalThis.document = page("{not json");
      setCatalog(null);
      assert.equal(gettext("Vote"), "Vote");
      assert.equal(pageLanguage(), "de"); // the <html lang> still sets the formats
    } finally {
      delete globalThis.document;
    }
  });

  test("interpolate fills positional and named placeholders, leaving unknown names visible", () => {
    assert.equal(interpolate("%s of %s", [3, 10]), "3 of 10");
    assert.equal(interpolate("%(done)s of %(all)s", { done: 3, all: 10 }, true), "3 of 10");
    assert.equal(interpolate("%(missing)s", {}, true), "%(missing)s");
  });
});

describe("formats", () => {
  test("numbers and percentages are written the language's way", () => {
    setCatalog({ language: "en", messages: {} });
    assert.equal(formatNumber(1234.56), "1,234.6");
    assert.equal(formatPercent(42), "42%");
    setCatalog({ language: "de", messages: {} });
    assert.equal(formatNumber(1234.56), "1.234,6");
    assert.equal(formatPercent(42), "42\u00a0%");
    setCatalog({ language: "fr", messages: {} });
    assert.equal(formatNumber(4.5), "4,5");
    assert.equal(formatPercent(7), "7\u00a0%");
    assert.equal(formatNumber(null), "–");
  });

  test("dates are written in the language", () => {
    const when = new Date(Date.UTC(2026, 4, 14, 12));
    setCatalog({ language: "es", messages: {} });
    assert.match(formatDate(when, { dateStyle: "long", timeZone: "UTC" }), /14 de mayo de 2026/);
    setCatalog({ language: "pt", messages: {} });
    assert.match(formatDate(when, { dateStyle: "long", timeZone: "UTC" }), /14 de maio de 2026/);
    assert.equal(formatDate("not a date"), "–");
  });
});

describe("converted modules", () => {
  test("the ballot's hints and ranges read the page's catalogue at the time they are shown", async () => {
    const { kindHint, rangeText } = await import("../../static/js/ballot.js");
    const poll = { kind: "multi", max_choices: 2, options: [{}, {}, {}] };
    assert.equal(kindHint(poll), "Choose up to 2, then send.");
    setCatalog({
      language: "de",
      plural: "nplurals=2; plural=(n != 1);",
      messages: {
        "Choose up to %s, then send.": "Wählen Sie bis zu %s und senden Sie.",
        "Between %(min)s and %(max)s %(unit)s.": "Zwischen %(min)s und %(max)s %(unit)s.",
      },
    });
    assert.equal(kindHint(poll), "Wählen Sie bis zu 2 und senden Sie.");
    assert.equal(rangeText({ min: 0, max: 10, unit: "mg" }), "Zwischen 0 und 10 mg.");
    assert.equal(rangeText({}), "Any number."); // not in this catalogue: English
  });

  test("the case card's labels and patient phrase are translated; the case's own text is not", async () => {
    installFakeDom();
    const { renderCase, yearsText } = await import("../../static/js/render.js");
    setCatalog({
      language: "es",
      plural: "nplurals=2; plural=(n != 1);",
      messages: {
        "%(age)s-year-old woman": "Mujer de %(age)s años",
        "%s year": ["%s año", "%s años"],
        Diagnosis: "Diagnóstico",
      },
    });
    const card = renderCase({ id: 1, title: "Caso 1", patient: { age: 67, sex: "female" }, diagnosis: "Mieloma" });
    assert.equal(card.querySelector('[data-testid="case-patient"]').textContent, "Mujer de 67 años");
    assert.equal(card.querySelector("dt").textContent, "Diagnóstico");
    assert.equal(card.querySelector('[data-testid="case-diagnosis"]').textContent, "Mieloma");
    assert.equal(yearsText(1), "1 año");
    assert.equal(yearsText(4), "4 años");
  });
});

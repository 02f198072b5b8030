// render.js: the case card, teaching points with their reference links, countdowns and the
// connection pill. Case text and references come from the server: text only, safe links only.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import {
  countdownText,
  referenceLinks,
  renderCase,
  renderTeachingPoints,
  runCountdown,
  safeUrl,
  serverNow,
  setStatusPill,
  syncClock,
  yearsText,
} from "../../static/js/render.js";
import { installFakeDom, texts } from "./fake-dom.js";

const ATTACK = `<img src=x onerror="alert(1)">`;

describe("links", () => {
  test("safeUrl keeps http(s) only", () => {
    assert.equal(safeUrl("https://example.org/a b"), "https://example.org/a%20b");
    assert.equal(safeUrl("http://example.org"), "http://example.org/");
    assert.equal(safeUrl("javascript:alert(1)"), null);
    assert.equal(safeUrl(" JavaScript:alert(1)"), null);
    assert.equal(safeUrl("data:text/html,<script>alert(1)</script>"), null);
    assert.equal(safeUrl("/relative/path"), null);
    assert.equal(safeUrl("not a url"), null);
    assert.equal(safeUrl(undefined), null);
  });

  test("referenceLinks builds PubMed, DOI and trial links with the ids encoded", () => {
    assert.deepEqual(referenceLinks({ pmid: "123", doi: "10.1000/x y", nct: "NCT01" }), [
      { href: "https://pubmed.ncbi.nlm.nih.gov/123/", text: "PMID 123" },
      { href: "https://doi.org/10.1000/x%20y", text: "DOI 10.1000/x y" },
      { href: "https://clinicaltrials.gov/study/NCT01", text: "NCT01" },
    ]);
    const [pubmed] = referenceLinks({ pmid: "1/../../evil?x=<b>" });
    assert.equal(pubmed.href, "https://pubmed.ncbi.nlm.nih.gov/1%2F..%2F..%2Fevil%3Fx%3D%3Cb%3E/");
  });

  test("a source URL that is not http(s) gives no link", () => {
    assert.deepEqual(referenceLinks({ url: "javascript:alert(1)" }), []);
    assert.deepEqual(referenceLinks({ url: "https://example.org/guideline" }), [
      { href: "https://example.org/guideline", text: "Source" },
    ]);
    assert.deepEqual(referenceLinks({}), []);
  });
});

describe("countdowns", () => {
  test("countdownText in minutes and seconds, rounded up", () => {
    assert.equal(countdownText(null, 0), "");
    assert.equal(countdownText(65_000, 0), "Closes in 1:05");
    assert.equal(countdownText(65_000, 100), "Closes in 1:05", "64.9 s left still shows 1:05");
    assert.equal(countdownText(10_000, 1_000), "Closes in 0:09");
    assert.equal(countdownText(10_000, 10_000), "Closing…");
    assert.equal(countdownText(10_000, 20_000), "Closing…");
  });

  test("syncClock makes serverNow follow the server's clock", () => {
    syncClock({ server_time: Date.now() + 60_000 });
    assert.ok(Math.abs(serverNow() - (Date.now() + 60_000)) < 1000);
    syncClock({}); // a frame without the time changes nothing
    assert.ok(Math.abs(serverNow() - (Date.now() + 60_000)) < 1000);
    syncClock({ server_time: Date.now() });
    assert.ok(Math.abs(serverNow() - Date.now()) < 1000);
  });

  test("runCountdown shows a countdown only for an open poll with a closing time", (t) => {
    const document = installFakeDom();
    t.mock.timers.enable({ apis: ["setInterval"] });
    const node = document.createElement("span");
    syncClock({ server_time: Date.now() });
    runCountdown(node, { state: "open", closes_at: Date.now() + 5_000 });
    assert.equal(node.hidden, false);
    assert.match(node.textContent, /^Closes in 0:0[45]$/);
    runCountdown(node, { state: "closed", closes_at: Date.now() + 5_000 });
    assert.equal(node.hidden, true);
    assert.equal(node.textContent, "");
  });
});

describe("renderCase", () => {
  beforeEach(() => installFakeDom());

  const data = {
    id: 3,
    title: ATTACK,
    disease: "Myeloma",
    diagnosis: `IgG kappa ${ATTACK}`,
    years_since_diagnosis: 0,
    ecog: 0,
    patient: { age: 67, sex: "female" },
    staging: [{ system: "R-ISS", value: "II" }],
    facts: [
      { id: 1, label: "Labs", text: ATTACK, revealed: true },
      { id: 2, label: "Hidden finding", text: "not yet", revealed: false },
    ],
    history: ["Hypertension"],
    therapy_lines: [{ line: 1, regimen: "VRd", agents: ["V", "R", "d"], outcome: ATTACK }],
    current_status: "Relapse",
    clinical_question: "What next?",
  };

  test("every server string is text; revealed facts only; ECOG 0 and under a year are shown", () => {
    const card = renderCase(data, { level: 2 });
    assert.equal(card.querySelectorAll("img").length, 0);
    assert.equal(card.querySelector("h2").textContent, ATTACK);
    assert.equal(card.querySelector('[data-testid="case-patient"]').textContent, "67-year-old woman");
    assert.equal(card.querySelector('[data-testid="case-diagnosis"]').textContent, `IgG kappa ${ATTACK}`);
    assert.equal(card.querySelector('[data-testid="case-years"]').textContent, "Less than a year");
    assert.equal(card.querySelector('[data-testid="case-ecog"]').textContent, "0");
    assert.deepEqual(texts(card, '[data-testid="case-fact"]'), [ATTACK]);
    assert.equal(card.querySelector("[data-fact-id]").dataset.factId, "1");
    assert.equal(card.querySelector('[data-testid="line-outcome"]').textContent, ATTACK);
    assert.equal(card.querySelector('[data-testid="line-agents"]').textContent, "V, R, d");
    assert.deepEqual(texts(card, ".case-part-title"), [
      "Findings",
      "Medical history",
      "Treatment so far",
      "Now",
      "Clinical question",
    ]);
    assert.equal(card.querySelector(".case-part-title").tagName, "H3");
    assert.equal(card.querySelector(".line-head").tagName, "H4");
  });

  test("the case's content carries its author's language; the translated labels do not", () => {
    const card = renderCase({ ...data, language: "fr" }, { level: 2 });
    for (const testid of ["case-title", "case-diagnosis", "case-fact", "line-outcome", "case-question"]) {
      assert.equal(card.querySelector(`[data-testid="${testid}"]`).getAttribute("lang"), "fr", testid);
    }
    assert.equal(card.querySelector(".fact dt").hasAttribute("lang"), false, "a label of the interface");
    assert.equal(card.querySelector('[data-testid="case-patient"]').hasAttribute("lang"), false);
    assert.equal(card.querySelector(".case-part-title").hasAttribute("lang"), false);
    assert.equal(card.querySelector('[data-fact-id] dt').getAttribute("lang"), "fr", "a fact's own label is content");
    assert.equal(renderCase(data, { level: 2 }).querySelector("[lang]"), null, "no language: inherit the page's");
  });

  test("images come from the event's image path, described, captioned as text", () => {
    const images = [{ id: 4, caption: ATTACK, alt: "PET-CT: new lytic lesions", width: 1600, height: 1200 }];
    const card = renderCase({ ...data, images }, { level: 2, imagePath: "/e/CASE2/images/" });
    const img = card.querySelector('[data-testid="case-image"] img');
    assert.equal(img.getAttribute("src"), "/e/CASE2/images/4");
    assert.equal(img.getAttribute("alt"), "PET-CT: new lytic lesions");
    assert.equal(img.getAttribute("width"), "1600");
    assert.equal(card.querySelector("figcaption").textContent, ATTACK);
    assert.equal(card.querySelectorAll("img").length, 1);  // the caption's markup stays text
    assert.ok(texts(card, ".case-part-title").includes("Images"));
    assert.equal(renderCase({ ...data, images }, { level: 2 }).querySelectorAll("img").length, 0);  // no path, no image
  });

  test("missing parts are left out", () => {
    const card = renderCase({ id: 4, title: "Bare", patient: { age: 50, sex: "x" } });
    assert.equal(card.querySelector('[data-testid="case-patient"]').textContent, "50-year-old patient");
    assert.equal(card.querySelectorAll(".fact").length, 0);
    assert.equal(card.querySelectorAll(".case-part").length, 0);
  });

  test("yearsText", () => {
    assert.equal(yearsText(null), null);
    assert.equal(yearsText(0), "Less than a year");
    assert.equal(yearsText(1), "1 year");
    assert.equal(yearsText(4), "4 years");
  });
});

describe("renderTeachingPoints", () => {
  test("paragraphs from blank lines, references with safe links opened apart", () => {
    const box = installFakeDom().createElement("div");
    renderTeachingPoints(
      box,
      [
        {
          id: 5,
          title: ATTACK,
          text: `First paragraph.\n\n  ${ATTACK}  \n \nThird.`,
          references: [
            { citation: "Trial 2024", pmid: "42", url: "javascript:alert(1)" },
            { citation: ATTACK, url: "https://example.org" },
          ],
        },
      ],
      { level: 3 },
    );
    assert.equal(box.querySelectorAll("img").length, 0);
    assert.equal(box.querySelector("h3").textContent, ATTACK);
    assert.deepEqual(texts(box, ".teaching-text p"), ["First paragraph.", ATTACK, "Third."]);
    const links = box.querySelectorAll("a");
    assert.deepEqual(
      links.map((a) => [a.getAttribute("href"), a.textContent, a.getAttribute("rel"), a.getAttribute("target")]),
      [
        ["https://pubmed.ncbi.nlm.nih.gov/42/", "PMID 42", "noopener noreferrer", "_blank"],
        ["https://example.org/", "Source", "noopener noreferrer", "_blank"],
      ],
    );
    assert.deepEqual(texts(box, ".citation"), ["Trial 2024", ATTACK]);
  });
});

test("setStatusPill", () => {
  const pill = installFakeDom().createElement("span");
  setStatusPill(pill, "fallback");
  assert.equal(pill.dataset.state, "fallback");
  assert.equal(pill.textContent, "Live (slow connection mode)");
  setStatusPill(pill, "unknown");
  assert.equal(pill.textContent, "unknown");
});

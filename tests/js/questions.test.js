// questions-render.js: similar questions while typing (clinical terms kept whole), the projector's
// picks, and question text (participant input) staying text in every rendering.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import {
  consoleGroups,
  consoleQuestion,
  phoneQuestion,
  pinnedQuestion,
  questionTokens,
  similarQuestions,
  stageQuestion,
  topQuestions,
} from "../../static/js/questions-render.js";
import { installFakeDom, texts } from "./fake-dom.js";

const ATTACK = `<img src=x onerror="alert(1)">`;

function q(id, text, fields = {}) {
  return {
    id, text, votes: 0, state: "approved", pinned: false, answered: false, mine: false, voted: false, name: null,
    ...fields,
  };
}

describe("questionTokens", () => {
  test("CAR T stays one term however it is written", () => {
    for (const written of ["CAR T", "CAR-T", "car t-cell", "CAR T cells", "CART"]) {
      assert.ok(questionTokens(`Is ${written} an option?`).includes("car-t"), written);
    }
    assert.ok(!questionTokens("CAR T after bispecifics").includes("car"));
    assert.ok(!questionTokens("CAR T after bispecifics").includes("t"));
  });

  test("other clinical terms are kept whole, stop words dropped", () => {
    assert.deepEqual(questionTokens("What about PD-L1 and PD 1 in HER 2?"), ["pd-l1", "pd-1", "her2"]);
    assert.deepEqual(questionTokens("BRCA 2 and ide-cel"), ["brca2", "ide-cel"]);
  });
});

describe("similarQuestions", () => {
  const items = [
    q(1, "Is CAR T still an option after a bispecific?", { votes: 4 }),
    q(2, "What is the role of transplant in first relapse?"),
    q(3, "Should we check MRD before maintenance?"),
    q(4, "CAR-T after bispecifics: which patients?", { state: "pending", mine: true }),
    q(5, "CAR T cells after a bispecific antibody?", { mine: true }),
  ];

  test("offers the approved questions of others that share the terms", () => {
    assert.deepEqual(
      similarQuestions("car-t after bispecific", items).map((x) => x.id),
      [1],
    );
    assert.deepEqual(similarQuestions("MRD before maintenance", items).map((x) => x.id), [3]);
  });

  test("a car is not a CAR T", () => {
    assert.deepEqual(similarQuestions("Can a car take me to the transplant clinic?", items.slice(0, 1)), []);
  });

  test("nothing for a short or empty draft", () => {
    assert.deepEqual(similarQuestions("", items), []);
    assert.deepEqual(similarQuestions("is", items), []);
  });
});

describe("the projector's picks", () => {
  const items = [
    q(1, "a", { votes: 1 }),
    q(2, "b", { votes: 5, answered: true }),
    q(3, "c", { votes: 3, pinned: true }),
    q(4, "d", { votes: 3 }),
    q(5, "e", { votes: 3 }),
  ];
  test("the pinned question, and the top open ones by votes, newer first among equals", () => {
    assert.equal(pinnedQuestion(items).id, 3);
    assert.deepEqual(topQuestions(items, 2).map((x) => x.id), [5, 4]);
    assert.equal(pinnedQuestion([]), null);
  });

  test("the console groups questions by state", () => {
    const groups = consoleGroups([q(1, "x", { state: "pending" }), q(2, "y"), q(3, "z", { state: "dismissed" })]);
    assert.deepEqual(Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, v.map((x) => x.id)])), {
      pending: [1],
      approved: [2],
      dismissed: [3],
    });
  });
});

describe("rendering keeps participant text as text", () => {
  beforeEach(() => installFakeDom());

  test("a phone's question: text, name, badges and a pressed toggle", () => {
    let toggled = null;
    const node = phoneQuestion(q(7, ATTACK, { name: ATTACK, votes: 2, voted: true, mine: true, state: "pending" }), {
      onToggle: (x) => (toggled = x.id),
    });
    assert.deepEqual(texts(node, '[data-testid="question-text"]'), [ATTACK]);
    const button = node.querySelector('[data-testid="question-upvote"]');
    assert.equal(button.getAttribute("aria-pressed"), "true");
    assert.match(button.getAttribute("aria-label"), /Remove your vote \(2 votes\)/);
    button.dispatch("click");
    assert.equal(toggled, 7);
    assert.ok(texts(node, ".q-badge").includes("Awaiting moderation"));
  });

  test("the console offers the commands of each state", () => {
    const commands = [];
    const onCommand = (type, fields) => commands.push([type, fields]);
    const actions = (item) => texts(consoleQuestion(item, { onCommand }), "button");
    assert.deepEqual(actions(q(1, ATTACK, { state: "pending" })), ["Approve", "Dismiss"]);
    assert.deepEqual(actions(q(1, "x")), ["Pin", "Answered", "Dismiss"]);
    assert.deepEqual(actions(q(1, "x", { pinned: true, answered: true })), ["Unpin", "Reopen", "Dismiss"]);
    assert.deepEqual(actions(q(1, "x", { state: "dismissed" })), ["Restore"]);
    assert.deepEqual(actions(q(1, "x", { state: "dismissed", merged_into: 2 })), []);
    const node = consoleQuestion(q(1, ATTACK, { state: "pending" }), { onCommand });
    node.querySelector('[data-testid="question-approve"]').dispatch("click");
    assert.deepEqual(commands, [["approve_question", { question: 1 }]]);
    assert.ok(texts(node, '[data-testid="question-text"]')[0].endsWith(ATTACK));
  });

  test("the projector shows the pinned question large", () => {
    const node = stageQuestion(q(3, ATTACK, { votes: 1 }), { large: true });
    assert.equal(node.getAttribute("data-testid"), "stage-pinned-question");
    assert.deepEqual(texts(node, '[data-testid="question-votes"]'), ["1 vote"]);
  });
});

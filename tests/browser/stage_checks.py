"""What every projector screen must hold: all its visible text inside the viewport (the stage never
scrolls and never cuts text off), and the case readable from the back of a room."""

from __future__ import annotations

from playwright.sync_api import Page

# Every text node on show: its boxes, the viewport, and the slide that clips it (if any).
OUTSIDE_JS = """() => {
  const W = window.innerWidth, H = window.innerHeight, out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || el.closest("[hidden], .visually-hidden, .skip-link, script, style, template")) continue;
    if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
    const clip = el.closest(".stage-slide");
    const box = clip ? clip.getBoundingClientRect() : { left: 0, top: 0, right: W, bottom: H };
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.width < 1 || r.height < 1) continue;
      const inView = r.left >= -1 && r.top >= -1 && r.right <= W + 1 && r.bottom <= H + 1;
      const inSlide =
        r.left >= box.left - 1 && r.top >= box.top - 1 && r.right <= box.right + 1 && r.bottom <= box.bottom + 1;
      if (!inView || !inSlide) {
        const at = [r.left, r.top, r.right, r.bottom].map(Math.round).join(", ");
        out.push(`${text.slice(0, 50)} at [${at}]`);
        break;
      }
    }
  }
  const doc = document.documentElement;
  if (doc.scrollHeight > H + 1 || doc.scrollWidth > W + 1) {
    out.push(`the page scrolls: ${doc.scrollWidth}×${doc.scrollHeight}`);
  }
  return out;
}"""

# The case summary's body text: findings, history, therapy lines, status and question.
CASE_BODY_SIZES_JS = """() => [...document.querySelectorAll(
  '[data-testid="case"] .fact dd, [data-testid="case"] .case-history li, [data-testid="case"] .line-facts dd, ' +
  '[data-testid="case"] .line-regimen, [data-testid="case"] .case-status p, [data-testid="case"] .case-question p'
)].map((el) => parseFloat(getComputedStyle(el).fontSize))"""


def text_outside(page: Page) -> list[str]:
    return page.evaluate(OUTSIDE_JS)


def case_body_font_sizes(page: Page) -> list[float]:
    return page.evaluate(CASE_BODY_SIZES_JS)

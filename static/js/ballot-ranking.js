// The ranking widget: an ordered list with "Move up" / "Move down" buttons per option.

import { Widget, markPreferred, nextId } from "./ballot-base.js";
import { h } from "./render.js";
import { gettext, interpolate } from "./i18n.js";

export class Ranking extends Widget {
  constructor(poll, handlers) {
    super(poll, handlers);
    const help = nextId("rank-help");
    this.items = new Map(poll.options.map((option) => [option.id, this.item(option)]));
    this.list = h("ol", { class: "rank-list", "data-testid": "ranking", "aria-describedby": help }, [
      ...this.items.values(),
    ]);
    this.status = h("p", { class: "visually-hidden", "aria-live": "polite", "data-testid": "rank-status" });
    this.root = this.form(
      h(
        "div",
        { class: "rank-field" },
        h("p", { class: "field-hint", id: help, text: gettext("Use the arrow buttons to move an option up or down.") }),
        this.list,
        this.status,
      ),
    );
    this.renumber();
  }

  item(option) {
    const move = (step, word, glyph) =>
      h(
        "button",
        {
          type: "button",
          class: "rank-move",
          "data-testid": `move-${word}`,
          "aria-label": interpolate(word === "up" ? gettext("Move %s up") : gettext("Move %s down"), [option.label]),
          onclick: (event) => this.move(option.id, step, event.currentTarget),
        },
        h("span", { "aria-hidden": "true", text: glyph }),
      );
    return h(
      "li",
      { class: "rank-item", "data-testid": "rank-item", "data-option-id": option.id },
      h("span", { class: "rank-position", "aria-hidden": "true" }),
      h("span", { class: "rank-label", "data-testid": "rank-label", text: option.label }),
      h("span", { class: "rank-moves" }, move(-1, "up", "↑"), move(1, "down", "↓")),
    );
  }

  order() {
    return [...this.list.children].map((li) => Number(li.dataset.optionId));
  }

  move(optionId, step, button) {
    if (this.root.dataset.open !== "true") return;
    const order = this.order();
    const from = order.indexOf(optionId);
    const to = from + step;
    if (to < 0 || to >= order.length) return;
    [order[from], order[to]] = [order[to], order[from]];
    this.arrange(order);
    const label = this.poll.options.find((o) => o.id === optionId).label;
    this.status.textContent = interpolate(gettext("%(option)s: position %(place)s of %(count)s."), { option: label, place: to + 1, count: order.length }, true);
    // Moving a node drops its focus; give it back (to the other arrow at either end of the list).
    const li = this.items.get(optionId);
    const same = li.querySelector(`[data-testid="${button.dataset.testid}"]`);
    (same.disabled ? li.querySelector(".rank-move:not(:disabled)") : same).focus();
    this.edited();
  }

  arrange(order) {
    const known = order.filter((id) => this.items.has(id));
    const rest = [...this.items.keys()].filter((id) => !known.includes(id));
    this.list.replaceChildren(...[...known, ...rest].map((id) => this.items.get(id)));
    this.renumber();
  }

  renumber() {
    const items = [...this.list.children];
    items.forEach((li, index) => {
      li.querySelector(".rank-position").textContent = String(index + 1);
      const [up, down] = li.querySelectorAll(".rank-move");
      up.dataset.stuck = String(index === 0);
      down.dataset.stuck = String(index === items.length - 1);
      const open = this.root ? this.root.dataset.open === "true" : false;
      up.disabled = !open || index === 0;
      down.disabled = !open || index === items.length - 1;
    });
  }

  read() {
    return { options: this.order() };
  }

  fill(ballot) {
    this.arrange(ballot.options && ballot.options.length ? ballot.options : this.poll.options.map((o) => o.id));
  }

  setPreferred(ids) {
    markPreferred([...this.items.values()], ids);
  }
}

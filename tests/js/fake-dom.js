// A small stand-in for the browser's DOM, enough for the rendering modules (dom.js, charts.js,
// comparisons.js, flow.js, render.js) to build their nodes under node's test runner. It keeps
// the parts those modules use: elements, text nodes, attributes, class list, dataset, style,
// tree moves, simple selectors and serialisation. Markup parsing is left out on purpose: setting
// innerHTML or outerHTML, or calling insertAdjacentHTML, throws, so a module that started to turn
// server strings into markup fails its tests.

const HTML_NS = "http://www.w3.org/1999/xhtml";

function escapeText(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\u00a0/g, "&nbsp;");
}

function escapeAttribute(text) {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/\u00a0/g, "&nbsp;");
}

const VOID_ELEMENTS = new Set(["area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"]);

function refuseMarkup() {
  throw new Error("fake DOM: markup from strings is not allowed here (use textContent)");
}

export class FakeNode {
  constructor(ownerDocument) {
    this.ownerDocument = ownerDocument;
    this.parentNode = null;
    this.childNodes = [];
  }

  get isConnected() {
    let node = this;
    while (node.parentNode) node = node.parentNode;
    return node === this.ownerDocument;
  }

  get parentElement() {
    return this.parentNode instanceof FakeElement ? this.parentNode : null;
  }

  get nextSibling() {
    if (!this.parentNode) return null;
    const siblings = this.parentNode.childNodes;
    return siblings[siblings.indexOf(this) + 1] || null;
  }

  get textContent() {
    return this.childNodes.map((child) => child.textContent).join("");
  }

  set textContent(value) {
    const text = value === null || value === undefined ? "" : String(value);
    this.replaceChildren(...(text ? [this.ownerDocument.createTextNode(text)] : []));
  }

  remove() {
    if (!this.parentNode) return;
    const siblings = this.parentNode.childNodes;
    siblings.splice(siblings.indexOf(this), 1);
    this.parentNode = null;
  }

  toNode(child) {
    return child instanceof FakeNode ? child : this.ownerDocument.createTextNode(String(child));
  }

  insertBefore(node, reference) {
    if (node === reference) return node;
    node.remove();
    const index = reference ? this.childNodes.indexOf(reference) : -1;
    if (index < 0) this.childNodes.push(node);
    else this.childNodes.splice(index, 0, node);
    node.parentNode = this;
    return node;
  }

  appendChild(node) {
    return this.insertBefore(node, null);
  }

  append(...children) {
    for (const child of children) this.appendChild(this.toNode(child));
  }

  prepend(...children) {
    const first = this.childNodes[0] || null;
    for (const child of children) this.insertBefore(this.toNode(child), first);
  }

  replaceChildren(...children) {
    for (const child of [...this.childNodes]) child.remove();
    this.append(...children);
  }

  after(...nodes) {
    const parent = this.parentNode;
    if (!parent) return;
    const next = this.nextSibling;
    for (const node of nodes) parent.insertBefore(this.toNode(node), next);
  }

  before(...nodes) {
    const parent = this.parentNode;
    if (!parent) return;
    for (const node of nodes) parent.insertBefore(this.toNode(node), this);
  }

  get children() {
    return this.childNodes.filter((child) => child instanceof FakeElement);
  }

  get childElementCount() {
    return this.children.length;
  }

  get firstElementChild() {
    return this.children[0] || null;
  }

  /** Every element below this node, in document order. */
  *descendants() {
    for (const child of this.children) {
      yield child;
      yield* child.descendants();
    }
  }

  querySelectorAll(selector) {
    const list = parseSelectorList(selector);
    return [...this.descendants()].filter((element) => list.some((complex) => matchComplex(element, complex, this)));
  }

  querySelector(selector) {
    return this.querySelectorAll(selector)[0] || null;
  }
}

export class FakeText extends FakeNode {
  constructor(ownerDocument, data) {
    super(ownerDocument);
    this.data = data;
  }

  get nodeType() {
    return 3;
  }

  get textContent() {
    return this.data;
  }

  set textContent(value) {
    this.data = String(value);
  }

  get outerHTML() {
    return escapeText(this.data);
  }
}

function camelToData(name) {
  return `data-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function dataToCamel(name) {
  return name.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

class FakeStyle {
  setProperty(name, value) {
    this[name] = String(value);
  }

  getPropertyValue(name) {
    return this[name] === undefined ? "" : this[name];
  }
}

export class FakeElement extends FakeNode {
  constructor(ownerDocument, namespaceURI, localName) {
    super(ownerDocument);
    this.namespaceURI = namespaceURI;
    this.localName = localName;
    this.attributes = new Map();
    this.listeners = new Map();
    this.style = new FakeStyle();
    this.checked = false;
    const element = this;
    this.dataset = new Proxy(
      {},
      {
        get: (_, key) => (typeof key === "string" ? (element.getAttribute(camelToData(key)) ?? undefined) : undefined),
        set: (_, key, value) => {
          element.setAttribute(camelToData(key), value);
          return true;
        },
        deleteProperty: (_, key) => {
          element.removeAttribute(camelToData(key));
          return true;
        },
        has: (_, key) => element.hasAttribute(camelToData(key)),
        ownKeys: () => [...element.attributes.keys()].filter((n) => n.startsWith("data-")).map(dataToCamel),
        getOwnPropertyDescriptor: (_, key) =>
          element.hasAttribute(camelToData(key))
            ? { value: element.getAttribute(camelToData(key)), enumerable: true, configurable: true, writable: true }
            : undefined,
      },
    );
  }

  get nodeType() {
    return 1;
  }

  get tagName() {
    return this.namespaceURI === HTML_NS ? this.localName.toUpperCase() : this.localName;
  }

  setAttribute(name, value) {
    this.attributes.set(this.namespaceURI === HTML_NS ? name.toLowerCase() : name, String(value));
  }

  getAttribute(name) {
    const value = this.attributes.get(this.namespaceURI === HTML_NS ? name.toLowerCase() : name);
    return value === undefined ? null : value;
  }

  hasAttribute(name) {
    return this.getAttribute(name) !== null;
  }

  removeAttribute(name) {
    this.attributes.delete(this.namespaceURI === HTML_NS ? name.toLowerCase() : name);
  }

  toggleAttribute(name, force) {
    const on = force === undefined ? !this.hasAttribute(name) : Boolean(force);
    if (on) this.setAttribute(name, "");
    else this.removeAttribute(name);
    return on;
  }

  get id() {
    return this.getAttribute("id") || "";
  }

  get className() {
    return this.getAttribute("class") || "";
  }

  set className(value) {
    this.setAttribute("class", value);
  }

  get classList() {
    const element = this;
    const names = () => element.className.split(/\s+/).filter(Boolean);
    const write = (list) => element.setAttribute("class", list.join(" "));
    return {
      contains: (name) => names().includes(name),
      add: (...added) => write([...new Set([...names(), ...added])]),
      remove: (...removed) => write(names().filter((n) => !removed.includes(n))),
      toggle(name, force) {
        const on = force === undefined ? !names().includes(name) : Boolean(force);
        if (on) this.add(name);
        else this.remove(name);
        return on;
      },
      get length() {
        return names().length;
      },
    };
  }

  /** A form control's value: what was set, else its value attribute (as in a browser). */
  get value() {
    return this.currentValue ?? this.getAttribute("value") ?? "";
  }

  set value(value) {
    this.currentValue = String(value);
  }

  get hidden() {
    return this.hasAttribute("hidden");
  }

  set hidden(value) {
    this.toggleAttribute("hidden", value);
  }

  get disabled() {
    return this.hasAttribute("disabled");
  }

  set disabled(value) {
    this.toggleAttribute("disabled", value);
  }

  get previousElementSibling() {
    if (!this.parentNode) return null;
    const siblings = this.parentNode.children;
    return siblings[siblings.indexOf(this) - 1] || null;
  }

  get nextElementSibling() {
    if (!this.parentNode) return null;
    const siblings = this.parentNode.children;
    return siblings[siblings.indexOf(this) + 1] || null;
  }

  addEventListener(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(listener);
  }

  /** Call the listeners of `type` with a plain event object (for tests). */
  dispatch(type, event = {}) {
    for (const listener of this.listeners.get(type) || []) listener({ type, currentTarget: this, target: this, ...event });
  }

  matches(selector) {
    return parseSelectorList(selector).some((complex) => matchComplex(this, complex, this));
  }

  closest(selector) {
    for (let node = this; node instanceof FakeElement; node = node.parentNode) if (node.matches(selector)) return node;
    return null;
  }

  focus() {}

  get innerHTML() {
    return this.childNodes.map((child) => child.outerHTML).join("");
  }

  set innerHTML(_) {
    refuseMarkup();
  }

  get outerHTML() {
    const attrs = [...this.attributes].map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`).join("");
    if (this.namespaceURI === HTML_NS && VOID_ELEMENTS.has(this.localName)) return `<${this.localName}${attrs}>`;
    return `<${this.localName}${attrs}>${this.innerHTML}</${this.localName}>`;
  }

  set outerHTML(_) {
    refuseMarkup();
  }

  insertAdjacentHTML() {
    refuseMarkup();
  }
}

export class FakeDocument extends FakeNode {
  constructor() {
    super(null);
    this.ownerDocument = this;
    this.documentElement = this.createElement("html");
    this.body = this.createElement("body");
    this.documentElement.append(this.body);
    this.appendChild(this.documentElement);
  }

  get isConnected() {
    return true;
  }

  createElement(tag) {
    return new FakeElement(this, HTML_NS, String(tag).toLowerCase());
  }

  createElementNS(namespaceURI, tag) {
    return new FakeElement(this, namespaceURI, String(tag));
  }

  createTextNode(data) {
    return new FakeText(this, String(data));
  }

  getElementById(id) {
    return [...this.descendants()].find((element) => element.id === id) || null;
  }
}

// ------------------------------------------------------------- selectors
// Selector lists of compound selectors (tag, #id, .class, [attr], [attr="value"], :scope,
// :checked, :disabled, :not(...)) joined by descendant (space) or child (>) combinators.

function splitTopLevel(text, separator) {
  const parts = [];
  let depth = 0;
  let quote = null;
  let current = "";
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "(" || c === "[") depth += 1;
    else if (c === ")" || c === "]") depth -= 1;
    else if (c === separator && depth === 0) {
      parts.push(current);
      current = "";
      continue;
    }
    current += c;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

const SIMPLE = /^(\*|[a-zA-Z][\w-]*)|^#([\w-]+)|^\.([\w-]+)|^\[([\w-]+)(?:=(?:"([^"]*)"|'([^']*)'|([^\]]*)))?\]|^:not\(|^:([\w-]+)/;

function parseCompound(text) {
  const tests = [];
  let rest = text;
  while (rest) {
    const m = SIMPLE.exec(rest);
    if (!m) throw new Error(`fake DOM: unsupported selector ${JSON.stringify(text)}`);
    if (m[0] === ":not(") {
      let depth = 1;
      let end = 5;
      while (depth > 0 && end < rest.length) {
        if (rest[end] === "(") depth += 1;
        if (rest[end] === ")") depth -= 1;
        end += 1;
      }
      const inner = parseCompound(rest.slice(5, end - 1).trim());
      tests.push((element, scope) => !inner(element, scope));
      rest = rest.slice(end);
      continue;
    }
    const [, tag, id, cls, attr, v1, v2, v3, pseudo] = m;
    if (tag) tests.push((element) => tag === "*" || element.localName.toLowerCase() === tag.toLowerCase());
    else if (id) tests.push((element) => element.id === id);
    else if (cls) tests.push((element) => element.classList.contains(cls));
    else if (attr) {
      const value = v1 ?? v2 ?? v3;
      tests.push((element) => (value === undefined ? element.hasAttribute(attr) : element.getAttribute(attr) === value));
    } else if (pseudo === "scope") tests.push((element, scope) => element === scope);
    else if (pseudo === "checked") tests.push((element) => Boolean(element.checked));
    else if (pseudo === "disabled") tests.push((element) => element.disabled);
    else throw new Error(`fake DOM: unsupported pseudo-class :${pseudo}`);
    rest = rest.slice(m[0].length);
  }
  return (element, scope) => tests.every((test) => test(element, scope));
}

function parseComplex(text) {
  // "a > b c" -> compounds [a, b, c] with combinators [">", " "]
  const tokens = text.replace(/\s*>\s*/g, " > ").split(/\s+/).filter(Boolean);
  const compounds = [];
  const combinators = [];
  for (const token of tokens) {
    if (token === ">") combinators[compounds.length - 1] = ">";
    else {
      if (compounds.length && combinators[compounds.length - 1] === undefined) combinators[compounds.length - 1] = " ";
      compounds.push(parseCompound(token));
    }
  }
  return { compounds, combinators };
}

const parsed = new Map();

function parseSelectorList(selector) {
  if (!parsed.has(selector)) parsed.set(selector, splitTopLevel(selector, ",").map(parseComplex));
  return parsed.get(selector);
}

function matchComplex(element, { compounds, combinators }, scope, index = compounds.length - 1) {
  if (!(element instanceof FakeElement) || !compounds[index](element, scope)) return false;
  if (index === 0) return true;
  if (combinators[index - 1] === ">") return matchComplex(element.parentNode, { compounds, combinators }, scope, index - 1);
  for (let node = element.parentNode; node instanceof FakeElement; node = node.parentNode) {
    if (matchComplex(node, { compounds, combinators }, scope, index - 1)) return true;
  }
  return false;
}

// ---------------------------------------------------------------- install

/** Put a fresh fake `document` (and `Node`) on globalThis; returns it. */
export function installFakeDom() {
  const document = new FakeDocument();
  globalThis.document = document;
  globalThis.Node = FakeNode;
  return document;
}

/** Text of every element matching `selector` under `root`. */
export function texts(root, selector) {
  return root.querySelectorAll(selector).map((element) => element.textContent);
}

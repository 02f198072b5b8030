// The live connection of every Caseboard screen (see docs/protocol.md).
//
// - Reconnects by itself: exponential backoff from 0.5 s doubling to 15 s, with +/-50% jitter.
// - Resynchronises from the `state` frame sent on every (re)connect; older `state` frames and
//   older `results` frames of the same poll are dropped.
// - Votes go through an outbox kept in localStorage: a vote (the whole ballot: options, value, text,
//   confidence) is resent unchanged with the SAME ref after a reconnect or a reload until the
//   server acks or refuses it.
// - After several failed websocket attempts in a row, phones fall back to plain HTTP (polling the
//   state every 3 s, POSTing votes) while the websocket keeps being retried in the background.

import { Outbox, ballotFields } from "./outbox.js";
import { gettext } from "./i18n.js";

export { ballotFields } from "./outbox.js";

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 15000;
const FALLBACK_AFTER_FAILURES = 3;
const POLL_INTERVAL_MS = 3000;
const CONNECT_TIMEOUT_MS = 10000;
const HEARTBEAT_MS = 20000;
const SILENCE_LIMIT_MS = 50000;
const RETRY_VOTE_MS = 2000;
const CLOSE_UNAUTHORISED = 4403; // polls/live/consumers.py: the right to this screen is gone
// Errors after which the same vote may be sent again with the same ref.
const RETRYABLE = new Set(["unavailable", "rate_limited", "server_error"]);
// The tally of each poll kind in a results frame (docs/protocol.md, `results`): `counts` for the
// choice kinds (with `scale` or `ranking`), `numeric`, or `answers` for free text.
const TALLY_KEYS = ["counts", "numeric", "answers", "ranking", "scale"];

/** What the connection pill says for each connection status. */
export const CONNECTION_STATUS_TEXT = {
  connecting: gettext("Connecting…"),
  live: gettext("Live"),
  reconnecting: gettext("Reconnecting…"),
  fallback: gettext("Live (slow connection mode)"),
  offline: gettext("Offline: waiting for the network…"),
  denied: gettext("Disconnected: reload the page"),
};

export function readConfig(id = "caseboard-config") {
  const node = document.getElementById(id);
  return JSON.parse(node ? node.textContent : "{}");
}

/** A random ref; crypto.getRandomValues also works on plain-http LAN addresses (randomUUID does not). */
export function newRef() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.5 + random()));
}

export function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

function csrfToken() {
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  return readCookie("csrftoken") || (field ? field.value : "");
}

/**
 * Whether a results frame carries the tally (revealed to the room, or the moderator's), rather
 * than only the live `total` that every frame has (`type`, `poll`, `total`, `version`: hidden
 * results, and a vote's ack).
 */
export function carriesTally(frame) {
  return Boolean(frame) && typeof frame === "object" && TALLY_KEYS.some((key) => key in frame);
}

/**
 * The whole `questions` frame after a `questions_delta` (docs/protocol.md): the changed and own
 * items replace or join those of `current`, the others are kept, and `order` says which are shown
 * and in what order. Null without a base (the delta is then ignored; the next `state` is whole).
 */
export function applyQuestionsDelta(current, delta) {
  if (!current || !Array.isArray(current.items) || !delta || !Array.isArray(delta.order)) return null;
  const known = new Map(current.items.map((item) => [item.id, item]));
  for (const item of delta.items || []) known.set(item.id, item);
  return {
    type: "questions",
    version: delta.version,
    enabled: delta.enabled,
    moderated: delta.moderated,
    names: delta.names,
    items: delta.order.map((id) => known.get(id)).filter(Boolean),
  };
}

export class LiveConnection {
  /**
   * @param {object} config the page's caseboard-config (ws_path, code, optional state_url/vote_url)
   * @param {object} handlers onState(state), onResults(results), onAck(ack, vote), onError(error, vote),
   *   onStatus(status), onOutbox(entry or null); all optional. `vote` is the outbox entry the
   *   ack or error answers, or null.
   */
  constructor(config, handlers = {}) {
    this.config = config;
    this.handlers = handlers;
    this.ws = null;
    this.attempt = 0;
    this.failures = 0;
    this.stateVersion = -1;
    this.state = null;
    this.results = new Map();
    this.countedResults = new Map();
    this.outbox = new Outbox(config.code);
    this.status = "connecting";
    this.fallbackTimer = null;
    this.fallbackActive = false;
    this.posting = false;
    this.retryTimer = null;
    this.voteRetryTimer = null;
    this.heartbeat = null;
    this.lastMessageAt = 0;
    this.synced = false;
    this.stopped = false;
    this.extensions = []; // see use()
    this.questionsVersion = -1;
    this.questions = null;
  }

  /**
   * Add a feature that follows the connection on its own (questions.js): `onQuestions(frame)`
   * gets every newer `questions` frame (alone or inside a `state`), `onState(state, via)` every
   * applied state, and `onAck(ack)` / `onError(error)` answers first: returning true keeps them
   * from the page's own handlers.
   */
  use(extension) {
    this.extensions.push(extension);
    if (this.state) this.applyState(this.state, "replay");
  }

  start() {
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => {
      if (!this.isOpen() && !this.fallbackActive) this.setStatus("offline");
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.reconnectNow();
    });
    this.connect();
  }

  // ---------------------------------------------------------------- socket

  socketUrl() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${window.location.host}${this.config.ws_path}`;
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.stopped || this.ws) return;
    let ws;
    try {
      ws = new WebSocket(this.socketUrl());
    } catch {
      this.socketClosed(false);
      return;
    }
    this.ws = ws;
    let opened = false;
    // A handshake that hangs (some proxies never answer) counts as a failure too.
    const handshake = setTimeout(() => ws.close(), CONNECT_TIMEOUT_MS);
    ws.addEventListener("open", () => {
      clearTimeout(handshake);
      opened = true;
      this.failures = 0;
      this.synced = false;
      this.lastMessageAt = Date.now();
      this.stopFallback();
      this.setStatus("live");
      this.startHeartbeat();
    });
    ws.addEventListener("message", (event) => {
      this.lastMessageAt = Date.now();
      if (typeof event.data !== "string") return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.handleFrame(frame, "ws");
    });
    ws.addEventListener("close", (closed) => {
      clearTimeout(handshake);
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopHeartbeat();
      if (opened && closed.code === CLOSE_UNAUTHORISED && this.config.role === "panelist") {
        // The panelist link was withdrawn (or the account left the panel): retrying cannot
        // help, and the page itself says what happened.
        this.stopped = true;
        window.location.reload();
        return;
      }
      this.socketClosed(opened);
    });
  }

  socketClosed(opened) {
    if (!opened) this.failures += 1;
    if (this.failures >= FALLBACK_AFTER_FAILURES && this.config.state_url) this.startFallback();
    if (!this.fallbackActive) this.setStatus(navigator.onLine === false ? "offline" : "reconnecting");
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Skip the backoff wait (the network came back, or the phone woke up). */
  reconnectNow() {
    if (this.stopped || this.ws) return;
    this.attempt = 0;
    this.connect();
  }

  isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  send(frame) {
    if (!this.isOpen()) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastMessageAt > SILENCE_LIMIT_MS && this.ws) {
        this.ws.close(); // a half-open socket: the close handler reconnects
        return;
      }
      this.send({ type: "ping" });
    }, HEARTBEAT_MS);
  }

  stopHeartbeat() {
    clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    if (this.handlers.onStatus) this.handlers.onStatus(status);
  }

  // ---------------------------------------------------------------- frames

  handleFrame(frame, via) {
    if (!frame || typeof frame !== "object") return;
    switch (frame.type) {
      case "state":
        this.applyState(frame, via);
        break;
      case "results":
        if (this.acceptResults(frame) && this.handlers.onResults) this.handlers.onResults(frame);
        break;
      case "ack":
        this.applyAck(frame);
        break;
      case "error":
        this.applyError(frame);
        break;
      case "questions":
        this.applyQuestions(frame);
        break;
      case "questions_delta": {
        const whole = applyQuestionsDelta(this.questions, frame);
        if (whole) this.applyQuestions(whole);
        break;
      }
      default:
        break; // pong and future frame types
    }
  }

  applyState(state, via) {
    const sameEvent = !this.state || !state.event || this.state.event.id === state.event.id;
    if (sameEvent && typeof state.version === "number" && state.version < this.stateVersion) return;
    this.stateVersion = state.version;
    this.state = state;
    if (state.results) this.acceptResults(state.results);
    if (state.questions) this.applyQuestions(state.questions);
    for (const extension of this.extensions) if (extension.onState) extension.onState(state, via);
    if (via === "replay") return;
    if (via === "ws") this.attempt = 0; // a working connection: the next drop starts the backoff afresh
    if (this.handlers.onState) this.handlers.onState(state);
    if (via === "ws" && !this.synced) {
      this.synced = true;
      this.flushOutbox(); // resend an un-acked vote with its original ref
    }
  }

  acceptResults(results) {
    const previous = this.results.get(results.poll);
    if (previous && results.version < previous.version) return false;
    this.results.set(results.poll, results);
    if (carriesTally(results)) this.countedResults.set(results.poll, results);
    return true;
  }

  /**
   * The newest results frame of a poll (`latest`, maybe only its total), and the newest that
   * carried the tally (`counted`, see carriesTally): when `latest` carries it, they are the same.
   */
  resultsFor(pollId) {
    return { latest: this.results.get(pollId) || null, counted: this.countedResults.get(pollId) || null };
  }

  applyQuestions(frame) {
    if (typeof frame.version === "number" && frame.version < this.questionsVersion) return;
    this.questionsVersion = frame.version;
    this.questions = frame; // the base of the next questions_delta
    for (const extension of this.extensions) if (extension.onQuestions) extension.onQuestions(frame);
  }

  applyAck(ack) {
    if (this.extensions.some((extension) => extension.onAck && extension.onAck(ack))) return;
    // A vote's ack carries the poll's total right after that vote was written.
    if (ack.results && typeof ack.results === "object" && ack.results.poll === ack.poll) {
      this.acceptResults(ack.results);
    }
    const pending = this.outbox.get();
    const matched = pending && pending.ref === ack.ref ? pending : null;
    if (matched) {
      this.outbox.clear();
      this.notifyOutbox();
    }
    if (this.handlers.onAck) this.handlers.onAck(ack, matched);
  }

  applyError(error) {
    if (this.extensions.some((extension) => extension.onError && extension.onError(error))) return;
    const pending = this.outbox.get();
    const matched = pending && error.ref && pending.ref === error.ref ? pending : null;
    if (matched) {
      if (RETRYABLE.has(error.code)) {
        clearTimeout(this.voteRetryTimer);
        this.voteRetryTimer = setTimeout(() => this.flushOutbox(), RETRY_VOTE_MS);
        return; // still saving: the same ref goes out again shortly
      }
      this.outbox.clear();
      this.notifyOutbox();
    }
    if (this.handlers.onError) this.handlers.onError(error, matched);
  }

  // ----------------------------------------------------------------- votes

  pendingVote() {
    return this.outbox.get();
  }

  /**
   * Queue a vote and send it. `ballot` is {options, value, text, confidence} (only the fields the
   * poll's kind takes), or a plain list of option ids. The entry is kept whole in the outbox, so a
   * resend after a drop or a reload carries exactly the same ballot under the same ref.
   */
  vote(poll, ballot) {
    const entry = { ref: newRef(), poll, ...ballotFields(Array.isArray(ballot) ? { options: ballot } : ballot) };
    this.outbox.set(entry);
    this.notifyOutbox();
    this.flushOutbox();
    return entry;
  }

  notifyOutbox() {
    if (this.handlers.onOutbox) this.handlers.onOutbox(this.outbox.get());
  }

  flushOutbox() {
    const entry = this.outbox.get();
    if (!entry) return;
    const frame = { type: "vote", ref: entry.ref, poll: entry.poll, ...ballotFields(entry) };
    if (this.send(frame)) return;
    if (this.fallbackActive) this.postVote(frame);
  }

  async postVote(frame) {
    if (this.posting || !this.config.vote_url) return;
    this.posting = true;
    try {
      const response = await fetch(this.config.vote_url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(frame),
      });
      const reply = await response.json();
      this.handleFrame(reply, "http");
    } catch {
      // Network trouble: the vote stays in the outbox and goes out on the next tick.
    } finally {
      this.posting = false;
    }
  }

  /**
   * Send a frame over the socket, or over the HTTP fallback while it is active (the reply is
   * handled like a frame from the socket). False when neither could take it.
   */
  command(frame) {
    if (this.send(frame)) return true;
    if (!this.fallbackActive || !this.config.vote_url) return false;
    fetch(this.config.vote_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(frame),
    })
      .then((response) => response.json())
      .then((reply) => this.handleFrame(reply, "http"))
      .catch(() => {}); // the caller resends with the same ref
    return true;
  }

  // --------------------------------------------------------- HTTP fallback

  startFallback() {
    if (this.fallbackActive) return;
    this.fallbackActive = true;
    this.setStatus("fallback");
    this.pollState();
  }

  stopFallback() {
    this.fallbackActive = false;
    clearTimeout(this.fallbackTimer);
    this.fallbackTimer = null;
  }

  async pollState() {
    if (!this.fallbackActive) return;
    try {
      const response = await fetch(this.config.state_url, { credentials: "same-origin", cache: "no-store" });
      const frame = await response.json();
      if (!this.fallbackActive) return;
      this.handleFrame(frame, "http");
      if (frame.type === "state") {
        this.setStatus("fallback");
        this.flushOutbox();
      } else if (frame.type === "error" && frame.code === "not_joined") {
        this.setStatus("denied");
      }
    } catch {
      if (this.fallbackActive) this.setStatus(navigator.onLine === false ? "offline" : "reconnecting");
    }
    if (this.fallbackActive) this.fallbackTimer = setTimeout(() => this.pollState(), POLL_INTERVAL_MS);
  }
}

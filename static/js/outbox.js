// The phone's outbox: the one vote of an event still waiting for the server's answer, kept in
// localStorage so that a reload resends it whole (options, value, text, confidence) with its ref.

// The fields of a ballot, by poll kind (docs/protocol.md, "vote").
export const BALLOT_FIELDS = ["options", "value", "text", "confidence"];

/** The ballot fields of an object, copied (lists too); absent and null fields are left out. */
export function ballotFields(source) {
  const ballot = {};
  for (const key of BALLOT_FIELDS) {
    const value = source ? source[key] : undefined;
    if (value === undefined || value === null) continue;
    ballot[key] = Array.isArray(value) ? [...value] : value;
  }
  return ballot;
}

/** One pending vote per event, kept across reloads (`kind` names another such slot: a question's). */
export class Outbox {
  constructor(code, kind = "outbox") {
    this.key = `caseboard:${kind}:${code}`;
    this.memory = null;
  }

  /** The pending entry: the stored one (kept across reloads), else this page's own copy. */
  get() {
    try {
      const raw = window.localStorage.getItem(this.key);
      if (raw) return JSON.parse(raw);
    } catch {
      // Storage blocked, or an unreadable entry: this page's copy is all there is.
    }
    // Nothing stored: either nothing is pending, or storage refused the write (full, or a
    // private mode that reads but does not store) and only this page's copy holds the vote.
    return this.memory;
  }

  set(entry) {
    this.memory = entry;
    try {
      window.localStorage.setItem(this.key, JSON.stringify(entry));
    } catch {
      // Private mode or storage full: the in-memory copy still survives reconnects.
    }
  }

  clear() {
    this.memory = null;
    try {
      window.localStorage.removeItem(this.key);
    } catch {
      // ignored, see set()
    }
  }
}

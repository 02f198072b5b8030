// A fake window.localStorage for node tests: a Map, or one that refuses every call (as in a
// browser's private mode), or one that reads but cannot store (storage full).

export class MemoryStorage {
  constructor() {
    this.items = new Map();
  }

  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }

  setItem(key, value) {
    this.items.set(key, String(value));
  }

  removeItem(key) {
    this.items.delete(key);
  }
}

export class BlockedStorage {
  getItem() {
    throw new Error("SecurityError: storage is blocked");
  }

  setItem() {
    throw new Error("SecurityError: storage is blocked");
  }

  removeItem() {
    throw new Error("SecurityError: storage is blocked");
  }
}

export class FullStorage extends MemoryStorage {
  setItem() {
    throw new Error("QuotaExceededError: storage is full");
  }
}

/** Give the code under test a `window` whose localStorage is `storage`; returns it. */
export function installStorage(storage = new MemoryStorage()) {
  globalThis.window = { ...(globalThis.window || {}), localStorage: storage };
  return storage;
}

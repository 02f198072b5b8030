// Who is here: "12 joined · 9 voted" on the console and the projector. The joined count is read
// from /e/<CODE>/presence.json every few seconds (joins are not broadcast: a room joins in a
// burst); the voted count follows the live results frames of the poll on screen when there are.

import { formatNumber, interpolate, ngettext } from "./i18n.js";

export const PRESENCE_EVERY_MS = 5000;

/** "12 joined · 9 voted", or "12 joined" with no poll on screen. */
export function presenceText(joined, voted) {
  if (joined === null || joined === undefined) return "";
  const who = interpolate(ngettext("%s joined", "%s joined", joined), [formatNumber(joined)]);
  if (voted === null || voted === undefined) return who;
  return `${who} · ${interpolate(ngettext("%s voted", "%s voted", voted), [formatNumber(voted)])}`;
}

/** Keep `node` up to date; `liveTotal(pollId)` gives a newer voted count from results frames, or null. */
export function watchPresence(node, { code, liveTotal }) {
  let latest = null;
  const render = () => {
    if (!latest) return;
    const live = latest.poll ? liveTotal(latest.poll) : null;
    const text = presenceText(latest.joined, typeof live === "number" ? live : latest.voted);
    if (node.textContent !== text) node.textContent = text;
    node.hidden = !text;
  };
  const read = () => {
    fetch(`/e/${encodeURIComponent(code)}/presence.json`, { credentials: "same-origin", cache: "no-store" })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        if (data) latest = data;
        render();
      })
      .catch(() => {}); // offline: the next read fills in
  };
  read();
  setInterval(read, PRESENCE_EVERY_MS);
  return { render, refresh: read };
}

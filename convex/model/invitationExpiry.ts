/** How long an invitation link works. Pure, so the web app shows the same number it enforces. */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * WhatsApp business-scoped user ids (BSUIDs): since 2026 Cloud API webhooks carry a `user_id`
 * per person, unique to the business portfolio, and may leave the phone number out (people who
 * chose a username). Shape: a two-letter country code, a dot, then letters and digits, e.g.
 * "US.13491208655302741918"; a parent BSUID shared by several portfolios has "ENT." after the
 * country ("US.ENT.11815799212886844830"). A phone number never has letters or dots, so the
 * shape alone tells the two apart.
 */
const BSUID = /^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/;

export function isBusinessScopedUserId(value: string): boolean {
  return BSUID.test(value);
}

/** The country a BSUID was issued in ("US" for "US.1349…"), or null when it is not one. */
export function bsuidCountry(value: string): string | null {
  return isBusinessScopedUserId(value) ? value.slice(0, 2) : null;
}

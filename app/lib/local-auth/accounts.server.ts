// Local sign-in accounts, kept in one JSON file. The first sign-in with an email creates the
// account; a password given then is required from that moment on.
import {
  randomBytes,
  randomUUID,
  scrypt as scryptCallback,
  timingSafeEqual,
  type ScryptOptions,
} from "node:crypto";
import path from "node:path";
import { readIfExists, writeFileAtomic } from "./files.server";

export const ACCOUNTS_FILE = "accounts.json";
export const MIN_PASSWORD_LENGTH = 8;

export type Account = {
  /** The stable `sub` of every token: random, never derived from the email. */
  id: string;
  email: string;
  name: string;
  passwordHash: string | null;
  /**
   * When the owner of `email` opened a verification link sent to it; null (or absent, in files
   * written before verification existed) while unverified. Tokens say `email_verified: true`
   * only for a verified account that has a password (see `isEmailVerified`).
   */
  emailVerifiedAt?: string | null;
  /**
   * Sessions carry the epoch they were made in; "sign out everywhere" moves it on, and sessions
   * from an earlier epoch are refused on every request and token (absent = 0).
   */
  sessionEpoch?: number;
  /** The one verification link that may still be used (its nonce), and until when. */
  verification?: { nonce: string; expiresAt: string } | null;
  createdAt: string;
  updatedAt: string;
};

/**
 * Whether tokens for this account say the email is verified. A passwordless account is open to
 * anyone who types its email, so its email counts as verified only once it also has a password.
 */
export function isEmailVerified(account: Account): boolean {
  return Boolean(account.emailVerifiedAt) && account.passwordHash !== null;
}

export type NoAccount = { ok: false; reason: "no-account" };

export type StartVerificationResult =
  { ok: true; nonce: string; expiresAt: Date; account: Account } | { ok: false; reason: "no-password" };

export type VerificationResult =
  | { ok: true; account: Account }
  | { ok: false; reason: "no-account" | "no-password" | "used-or-replaced" | "expired" | "email-changed" };

type Change<R> = { result: R; changed?: boolean };

type AccountsFile = { version: 1; accounts: Account[] };

export type SignInInput = { email: string; name: string; password?: string };

/** `requirePassword`: every account needs one, new and existing (production with local sign-in). */
export type SignInOptions = { requirePassword?: boolean };

export function sessionEpochOf(account: Account): number {
  return account.sessionEpoch ?? 0;
}

export type SignInResult =
  { ok: true; account: Account; created: boolean } | { ok: false; field: "password"; message: string };

/** Emails compare case-insensitively and without surrounding spaces. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

// ------------------------------------------------------------------ passwords

// N = 2^15, r = 8 needs 32 MiB, Node's default ceiling; the parameters live in each hash, so
// they can be raised later without invalidating stored passwords.
const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 64;
const SALT_BYTES = 16;

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(password.normalize("NFKC"), salt, keyLength, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$<salt>$<hash>` (base64url), with a fresh random salt each time. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const { N, r, p } = SCRYPT_PARAMS;
  const hash = await scrypt(password, salt, KEY_LENGTH, { N, r, p, maxmem: 64 * 1024 * 1024 });
  return ["scrypt", N, r, p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/** Recomputes the hash with the stored salt and parameters and compares in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, saltText, hashText] = stored.split("$");
  if (scheme !== "scrypt" || !saltText || !hashText) return false;
  const expected = Buffer.from(hashText, "base64url");
  const options = { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 };
  if (!Number.isInteger(options.N) || !Number.isInteger(options.r) || !Number.isInteger(options.p))
    return false;
  const actual = await scrypt(password, Buffer.from(saltText, "base64url"), expected.length, options);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

// ------------------------------------------------------------------ the store

/** Writes to one file go one at a time within this process (the file itself is replaced atomically). */
const queues = new Map<string, Promise<unknown>>();

function serialized<T>(file: string, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(file) ?? Promise.resolve();
  const next = previous.then(work, work);
  queues.set(
    file,
    next.catch(() => undefined),
  );
  return next;
}

export class AccountStore {
  readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(path.resolve(dataDir), ACCOUNTS_FILE);
  }

  async findById(id: string): Promise<Account | null> {
    return (await this.read()).accounts.find((a) => a.id === id) ?? null;
  }

  async findByEmail(email: string): Promise<Account | null> {
    const normalized = normalizeEmail(email);
    return (await this.read()).accounts.find((a) => a.email === normalized) ?? null;
  }

  /**
   * Signs in to the account for `email`, creating it (with the name given) on first use. An
   * account with a password needs it every time; one created without accepts none. Signing in
   * never changes an existing account's name.
   */
  signIn(input: SignInInput, options: SignInOptions = {}): Promise<SignInResult> {
    const email = normalizeEmail(input.email);
    const password = input.password ? input.password : undefined;
    return serialized(this.file, async () => {
      const data = await this.read();
      const now = new Date().toISOString();
      const existing = data.accounts.find((a) => a.email === email);
      if (options.requirePassword && password === undefined) {
        return { ok: false, field: "password", message: "Enter your password: this server requires one" };
      }
      if (options.requirePassword && existing && existing.passwordHash === null) {
        return {
          ok: false,
          field: "password",
          message:
            "This account was created without a password, and this server now requires one: it cannot sign in here",
        };
      }
      if (!existing) {
        if (password !== undefined && password.length < MIN_PASSWORD_LENGTH) {
          return {
            ok: false,
            field: "password",
            message: `Use at least ${MIN_PASSWORD_LENGTH} characters, or leave the password empty`,
          };
        }
        const account: Account = {
          id: randomUUID(),
          email,
          name: input.name,
          passwordHash: password === undefined ? null : await hashPassword(password),
          createdAt: now,
          updatedAt: now,
        };
        data.accounts.push(account);
        await this.write(data);
        return { ok: true, account, created: true };
      }
      if (existing.passwordHash !== null) {
        if (password === undefined) {
          return { ok: false, field: "password", message: "This account has a password: enter it" };
        }
        if (!(await verifyPassword(password, existing.passwordHash))) {
          return { ok: false, field: "password", message: "That password is not right for this account" };
        }
      } else if (password !== undefined) {
        return {
          ok: false,
          field: "password",
          message: "This account was created without a password: leave the field empty",
        };
      }
      // Never renamed here: whoever signs in, the account keeps the name it was created with (a
      // passwordless account is open to anyone who types its email, and must not be renamed for
      // everyone who sees it).
      return { ok: true, account: existing, created: false };
    });
  }

  /**
   * Starts verifying the account's email: a new single-use nonce valid for `ttlMs`, replacing
   * any earlier one (so only the newest link works). Needs a password on the account.
   */
  startEmailVerification(id: string, ttlMs: number): Promise<StartVerificationResult | NoAccount> {
    return this.update(id, (account): Change<StartVerificationResult> => {
      if (account.passwordHash === null) return { result: { ok: false, reason: "no-password" } };
      const nonce = randomBytes(32).toString("base64url");
      const expiresAt = new Date(Date.now() + ttlMs);
      account.verification = { nonce, expiresAt: expiresAt.toISOString() };
      return { result: { ok: true, nonce, expiresAt, account }, changed: true };
    });
  }

  /** Uses a verification nonce: marks the email verified if it is the current one, for `email`. */
  completeEmailVerification(id: string, email: string, nonce: string): Promise<VerificationResult> {
    return this.update(id, (account): Change<VerificationResult> => {
      const pending = account.verification;
      if (!pending || !safeEqual(pending.nonce, nonce))
        return { result: { ok: false, reason: "used-or-replaced" } };
      if (account.email !== normalizeEmail(email)) return { result: { ok: false, reason: "email-changed" } };
      if (Date.parse(pending.expiresAt) <= Date.now()) return { result: { ok: false, reason: "expired" } };
      if (account.passwordHash === null) return { result: { ok: false, reason: "no-password" } };
      account.verification = null;
      account.emailVerifiedAt = new Date().toISOString();
      return { result: { ok: true, account }, changed: true };
    });
  }

  /** Ends every session of the account (the current one too): moves its session epoch on. */
  signOutEverywhere(id: string): Promise<{ ok: true; account: Account } | NoAccount> {
    return this.update(id, (account): Change<{ ok: true; account: Account }> => {
      account.sessionEpoch = sessionEpochOf(account) + 1;
      return { result: { ok: true, account }, changed: true };
    });
  }

  /** Gives a passwordless account a password (from its own signed-in session). */
  setPassword(id: string, password: string): Promise<SignInResult | NoAccount> {
    return this.update(id, async (account): Promise<Change<SignInResult>> => {
      if (account.passwordHash !== null) {
        return { result: { ok: false, field: "password", message: "This account already has a password" } };
      }
      if (password.length < MIN_PASSWORD_LENGTH) {
        return {
          result: { ok: false, field: "password", message: `Use at least ${MIN_PASSWORD_LENGTH} characters` },
        };
      }
      account.passwordHash = await hashPassword(password);
      return { result: { ok: true, account, created: false }, changed: true };
    });
  }

  /**
   * Reads, changes and writes one account under the file's write queue. `change` returns the
   * result and whether it changed the account; a missing account gives `{ ok: false, reason: "no-account" }`.
   */
  private update<R>(
    id: string,
    change: (account: Account) => Change<R> | Promise<Change<R>>,
  ): Promise<R | NoAccount> {
    return serialized(this.file, async (): Promise<R | NoAccount> => {
      const data = await this.read();
      const account = data.accounts.find((a) => a.id === id);
      if (!account) return { ok: false, reason: "no-account" };
      const { result, changed } = await change(account);
      if (changed) {
        account.updatedAt = new Date().toISOString();
        await this.write(data);
      }
      return result;
    });
  }

  private async read(): Promise<AccountsFile> {
    const text = await readIfExists(this.file);
    if (text === null) return { version: 1, accounts: [] };
    const parsed = JSON.parse(text) as AccountsFile;
    if (parsed?.version !== 1 || !Array.isArray(parsed.accounts)) {
      throw new Error(`${this.file} is not a local sign-in accounts file`);
    }
    return parsed;
  }

  private async write(data: AccountsFile): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(data, null, 2) + "\n");
  }
}

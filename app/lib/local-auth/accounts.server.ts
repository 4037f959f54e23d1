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
  createdAt: string;
  updatedAt: string;
};

type AccountsFile = { version: 1; accounts: Account[] };

export type SignInInput = { email: string; name: string; password?: string };

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
   * Signs in to the account for `email`, creating it on first use. An account created with a
   * password needs it every time; one created without accepts none. The name is updated to the
   * one given.
   */
  signIn(input: SignInInput): Promise<SignInResult> {
    const email = normalizeEmail(input.email);
    const password = input.password ? input.password : undefined;
    return serialized(this.file, async () => {
      const data = await this.read();
      const now = new Date().toISOString();
      const existing = data.accounts.find((a) => a.email === email);
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
      if (existing.name !== input.name) {
        existing.name = input.name;
        existing.updatedAt = now;
        await this.write(data);
      }
      return { ok: true, account: existing, created: false };
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

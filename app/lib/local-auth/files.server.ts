// Small, crash-safe file operations for local sign-in's state (signing key, session secret,
// accounts). A reader never sees a half-written file, and two processes starting at once agree
// on one key and one secret.
import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";

function tempPathFor(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`,
  );
}

/** Creates the folder (owner-only) if it is missing. */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

/** Replaces `file` in one step: write a temporary file beside it, then rename it over the old one. */
export async function writeFileAtomic(file: string, contents: string, mode = 0o600): Promise<void> {
  await ensureDir(path.dirname(file));
  const temp = tempPathFor(file);
  try {
    await writeFile(temp, contents, { mode, flag: "wx" });
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/**
 * Creates `file` with `makeContents()` unless it already exists, atomically: the content is written
 * to a temporary file that is then hard-linked into place, which fails if another process got
 * there first. Returns the file's contents either way, so every caller ends up with the winner.
 */
export async function createFileOnce(
  file: string,
  makeContents: () => string | Promise<string>,
  mode = 0o600,
): Promise<string> {
  const existing = await readIfExists(file);
  if (existing !== null) return existing;
  const contents = await makeContents();
  await ensureDir(path.dirname(file));
  const temp = tempPathFor(file);
  await writeFile(temp, contents, { mode, flag: "wx" });
  try {
    await link(temp, file);
    return contents;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return await readFile(file, "utf8");
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

export async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Tightens a secret file that someone loosened (for example by copying it) back to owner-only. */
export async function keepPrivate(file: string): Promise<void> {
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) await chmod(file, 0o600);
}

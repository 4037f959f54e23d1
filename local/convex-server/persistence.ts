/**
 * Durable state for the local Convex server: a snapshot plus an append-only journal of
 * committed transactions, fsynced (in groups) before a commit is acknowledged, and stored files on disk.
 * Restoring replays the journal over the snapshot, keeping ids and creation times.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
  writeFileSync,
  statSync,
  unlinkSync,
} from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { fdatasync } from "node:fs";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";

const fdatasyncAsync = promisify(fdatasync);

export type Doc = Record<string, Value> & { _id: string; _creationTime: number };

export type PersistedState = {
  documents: Map<string, Doc>;
  nextDocId: number;
  lastCreationTime: number;
  lastCommitTs: bigint;
};

export type CommitRecord = {
  ts: bigint;
  nextDocId: number;
  lastCreationTime: number;
  /** Document id → new document, or null when deleted. */
  writes: [string, Doc | null][];
};

const SNAPSHOT = "snapshot.json";
const JOURNAL = "journal.ndjson";
const FORMAT = 1;

export class Persistence {
  private journalFd: number | null = null;
  private journalBytes = 0;
  /** Commits appended / known to be on disk, for group commit. */
  private written = 0;
  private synced = 0;
  private syncing: Promise<void> | null = null;
  private syncScheduled = false;
  readonly storageDir: string;

  constructor(
    readonly dataDir: string,
    private readonly options: { compactAfterBytes?: number; fsync?: boolean } = {},
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.storageDir = path.join(dataDir, "storage");
    mkdirSync(this.storageDir, { recursive: true });
  }

  /** Reads the snapshot and replays the journal. A torn last line (crash mid-write) is ignored. */
  load(): PersistedState {
    const state: PersistedState = {
      documents: new Map(),
      nextDocId: 10000,
      lastCreationTime: 0,
      lastCommitTs: 0n,
    };
    const snapshotPath = path.join(this.dataDir, SNAPSHOT);
    if (existsSync(snapshotPath)) {
      const snap = JSON.parse(readFileSync(snapshotPath, "utf8"));
      if (snap.format !== FORMAT) throw new Error(`Unknown data format ${snap.format} in ${snapshotPath}`);
      state.nextDocId = snap.nextDocId;
      state.lastCreationTime = snap.lastCreationTime;
      state.lastCommitTs = BigInt(snap.lastCommitTs);
      for (const json of snap.documents as JSONValue[]) {
        const doc = jsonToConvex(json) as Doc;
        state.documents.set(doc._id, doc);
      }
    }
    const journalPath = path.join(this.dataDir, JOURNAL);
    if (existsSync(journalPath)) {
      const lines = readFileSync(journalPath, "utf8").split("\n");
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        if (!line.trim()) continue;
        let entry: { ts: string; n: number; c: number; w: [string, JSONValue | null][] };
        try {
          entry = JSON.parse(line);
        } catch (error) {
          if (i >= lines.length - 2) break; // torn final write: that commit was never acknowledged
          throw new Error(`Corrupt journal line ${i + 1} in ${journalPath}: ${(error as Error).message}`);
        }
        applyCommit(state, {
          ts: BigInt(entry.ts),
          nextDocId: entry.n,
          lastCreationTime: entry.c,
          writes: entry.w.map(([id, json]) => [id, json === null ? null : (jsonToConvex(json) as Doc)]),
        });
      }
    }
    return state;
  }

  /**
   * Appends one commit to the journal (written, not yet fsynced) and schedules a group fsync.
   * Durability comes from `sync()`: nothing may acknowledge the commit before it resolves.
   */
  append(commit: CommitRecord): void {
    const fd = this.openJournal();
    const line =
      JSON.stringify({
        ts: commit.ts.toString(),
        n: commit.nextDocId,
        c: commit.lastCreationTime,
        w: commit.writes.map(([id, doc]) => [id, doc === null ? null : convexToJson(doc)]),
      }) + "\n";
    const buf = Buffer.from(line);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off);
    this.journalBytes += buf.length;
    this.written += 1;
    // Group commit: one fdatasync covers every commit appended before it starts.
    if (!this.syncScheduled) {
      this.syncScheduled = true;
      setImmediate(() => {
        this.syncScheduled = false;
        void this.sync().catch(() => {});
      });
    }
  }

  /**
   * Resolves once every commit appended so far is on disk. Callers acknowledge a commit (answer
   * a client, an HTTP request) only after this, so nothing acknowledged is lost on a crash.
   */
  async sync(): Promise<void> {
    if (this.options.fsync === false) return;
    const target = this.written;
    while (this.synced < target) {
      if (!this.syncing) {
        const fd = this.journalFd;
        const upTo = this.written;
        this.syncing = (async () => {
          try {
            if (fd !== null) await fdatasyncAsync(fd);
          } catch (error) {
            // The journal was compacted meanwhile: the snapshot replacing it was written durably.
            if (fd === this.journalFd) throw error;
          } finally {
            this.syncing = null;
          }
          this.synced = Math.max(this.synced, upTo);
        })();
      }
      await this.syncing;
    }
  }

  /** How many commits appended since start are on disk (all of them without fsync). */
  get durableCommits(): number {
    return this.options.fsync === false ? this.written : this.synced;
  }

  needsCompaction(): boolean {
    return this.journalBytes > (this.options.compactAfterBytes ?? 16 * 1024 * 1024);
  }

  /** Writes a fresh snapshot of the whole state and starts an empty journal. */
  compact(state: PersistedState): void {
    const snapshotPath = path.join(this.dataDir, SNAPSHOT);
    const body = JSON.stringify({
      format: FORMAT,
      nextDocId: state.nextDocId,
      lastCreationTime: state.lastCreationTime,
      lastCommitTs: state.lastCommitTs.toString(),
      documents: [...state.documents.values()].map((d) => convexToJson(d)),
    });
    writeDurably(snapshotPath, body);
    this.synced = this.written;
    if (this.journalFd !== null) closeSync(this.journalFd);
    this.journalFd = null;
    const journalPath = path.join(this.dataDir, JOURNAL);
    if (existsSync(journalPath)) unlinkSync(journalPath);
    this.journalBytes = 0;
  }

  /** Writes a stored file (and its content type) durably: write, fsync, rename. */
  writeFile(storageId: string, bytes: Uint8Array, contentType: string | null): void {
    const file = this.filePath(storageId);
    writeDurably(`${file}.json`, JSON.stringify({ contentType }));
    writeDurably(file, bytes);
  }

  readFile(storageId: string): { bytes: Buffer; contentType: string | null } | null {
    const file = this.filePath(storageId);
    if (!existsSync(file)) return null;
    const meta = existsSync(`${file}.json`) ? JSON.parse(readFileSync(`${file}.json`, "utf8")) : {};
    return { bytes: readFileSync(file), contentType: meta.contentType ?? null };
  }

  deleteFile(storageId: string): void {
    const file = this.filePath(storageId);
    for (const f of [file, `${file}.json`]) if (existsSync(f)) unlinkSync(f);
  }

  close(): void {
    if (this.journalFd !== null) closeSync(this.journalFd);
    this.journalFd = null;
  }

  private filePath(storageId: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(storageId)) throw new Error(`Invalid storage id ${storageId}`);
    return path.join(this.storageDir, storageId);
  }

  private openJournal(): number {
    if (this.journalFd === null) {
      const journalPath = path.join(this.dataDir, JOURNAL);
      this.journalFd = openSync(journalPath, "a");
      this.journalBytes = existsSync(journalPath) ? statSync(journalPath).size : 0;
    }
    return this.journalFd;
  }
}

function writeDurably(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, data);
  const fd = openSync(tmp, "r+");
  fdatasyncSync(fd);
  closeSync(fd);
  renameSync(tmp, file);
}

export function applyCommit(state: PersistedState, commit: CommitRecord): void {
  for (const [id, doc] of commit.writes) {
    if (doc === null) state.documents.delete(id);
    else state.documents.set(id, doc);
  }
  state.nextDocId = commit.nextDocId;
  state.lastCreationTime = commit.lastCreationTime;
  state.lastCommitTs = commit.ts;
}

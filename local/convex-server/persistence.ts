/**
 * Durable state for the local Convex server: a snapshot plus an append-only journal of
 * committed transactions, fsynced (in groups) before a commit is acknowledged, and stored files on disk.
 * Restoring replays the journal over the snapshot, keeping ids and creation times.
 *
 * Compaction runs beside the server (`startCompaction`): the journal so far is fsynced and set
 * aside as `journal.old.ndjson`, new commits go to a fresh journal, and the state as of that moment
 * is written as the next snapshot in small steps. Only then is the old journal deleted. A crash
 * at any point restores correctly: replaying the old journal over the snapshot made from it ends
 * where the snapshot is (each document's last write there is its state in the snapshot).
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
import { open, rm } from "node:fs/promises";
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
/** The journal a running (or crashed) background compaction set aside. */
const OLD_JOURNAL = "journal.old.ndjson";
/** Documents serialized per step of a background compaction, between which the server runs. */
const COMPACTION_STEP = 2_000;
const FORMAT = 1;

export class Persistence {
  private journalFd: number | null = null;
  private journalBytes = 0;
  /** Commits appended / known to be on disk, for group commit. */
  private written = 0;
  private synced = 0;
  private syncing: Promise<void> | null = null;
  private syncScheduled = false;
  /** The snapshot's size: the journal may grow as large before it is compacted (`needsCompaction`). */
  private snapshotBytes = 0;
  /** The background compaction under way, if any; a synchronous `compact` supersedes it. */
  private compacting: { generation: number; done: Promise<void> } | null = null;
  private generation = 0;
  /** Counts journal files closed: an fsync of a closed one (made durable before) may fail. */
  private journalEpoch = 0;
  readonly storageDir: string;
  /**
   * A document's JSON text. The engine sets one that keeps each document object's text (made once
   * whether a function reads the document or the journal writes it).
   */
  documentText: (doc: Value) => string = (doc) => JSON.stringify(convexToJson(doc));

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
      const text = readFileSync(snapshotPath, "utf8");
      this.snapshotBytes = Buffer.byteLength(text);
      const snap = JSON.parse(text);
      if (snap.format !== FORMAT) throw new Error(`Unknown data format ${snap.format} in ${snapshotPath}`);
      state.nextDocId = snap.nextDocId;
      state.lastCreationTime = snap.lastCreationTime;
      state.lastCommitTs = BigInt(snap.lastCommitTs);
      for (const json of snap.documents as JSONValue[]) {
        const doc = jsonToConvex(json) as Doc;
        state.documents.set(doc._id, doc);
      }
    }
    // A background compaction cut short leaves its old journal: it comes before the current one.
    for (const name of [OLD_JOURNAL, JOURNAL]) this.replay(state, path.join(this.dataDir, name));
    return state;
  }

  private replay(state: PersistedState, journalPath: string): void {
    if (!existsSync(journalPath)) return;
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

  /**
   * Appends one commit to the journal (written, not yet fsynced) and schedules a group fsync.
   * Durability comes from `sync()`: nothing may acknowledge the commit before it resolves.
   */
  append(commit: CommitRecord): void {
    const fd = this.openJournal();
    // The text JSON.stringify({ ts, n, c, w }) would make, with each document's text reused.
    const writes = commit.writes.map(
      ([id, doc]) => `[${JSON.stringify(id)},${doc === null ? "null" : this.documentText(doc)}]`,
    );
    const line =
      `{"ts":${JSON.stringify(commit.ts.toString())},"n":${JSON.stringify(commit.nextDocId)},` +
      `"c":${JSON.stringify(commit.lastCreationTime)},"w":[${writes.join(",")}]}\n`;
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
        const epoch = this.journalEpoch;
        const upTo = this.written;
        this.syncing = (async () => {
          try {
            if (fd !== null) await fdatasyncAsync(fd);
          } catch (error) {
            // The journal was closed meanwhile, after it was made durable (compaction).
            if (epoch === this.journalEpoch) throw error;
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

  /**
   * Compaction rewrites the whole state, so it waits until the journal outgrows both the
   * threshold and the last snapshot: its cost stays proportional to what was written, however
   * large the data grows, and a restart replays journals no larger than the snapshot.
   */
  needsCompaction(): boolean {
    return (
      this.compacting === null &&
      this.journalBytes > Math.max(this.options.compactAfterBytes ?? 16 * 1024 * 1024, this.snapshotBytes)
    );
  }

  /** Writes a fresh snapshot of the whole state now and starts an empty journal. */
  compact(state: PersistedState): void {
    // Supersedes a background compaction: it sees the new generation and gives up.
    this.generation += 1;
    const text =
      snapshotHeader(state) + "[" + [...state.documents.values()].map(this.documentText).join(",") + "]}";
    writeDurably(path.join(this.dataDir, SNAPSHOT), text);
    this.snapshotBytes = Buffer.byteLength(text);
    this.synced = this.written;
    this.closeJournal();
    for (const name of [OLD_JOURNAL, JOURNAL]) {
      const file = path.join(this.dataDir, name);
      if (existsSync(file)) unlinkSync(file);
    }
    this.journalBytes = 0;
  }

  /**
   * Starts writing a snapshot of `state` (the state as of the last commit appended) beside the
   * server: the journal so far is made durable and set aside, commits from now on go to a new one,
   * and the snapshot is serialized COMPACTION_STEP documents at a time. Resolves when it is done
   * (or superseded by `compact`). A crash meanwhile loses nothing (see the file's comment).
   */
  startCompaction(state: PersistedState): Promise<void> {
    if (this.compacting) return this.compacting.done;
    // A compaction cut short by a crash left an old journal that this one's would overwrite:
    // write the snapshot at once instead (it replaces both journals).
    if (existsSync(path.join(this.dataDir, OLD_JOURNAL))) {
      this.compact(state);
      return Promise.resolve();
    }
    if (this.journalFd !== null) {
      if (this.options.fsync !== false) fdatasyncSync(this.journalFd);
      this.synced = this.written;
    }
    this.closeJournal();
    const journalPath = path.join(this.dataDir, JOURNAL);
    if (existsSync(journalPath)) renameSync(journalPath, path.join(this.dataDir, OLD_JOURNAL));
    this.journalBytes = 0;
    const generation = ++this.generation;
    const done = this.writeSnapshotInSteps(state, generation).finally(() => {
      if (this.compacting?.generation === generation) this.compacting = null;
    });
    this.compacting = { generation, done };
    return done;
  }

  private async writeSnapshotInSteps(state: PersistedState, generation: number): Promise<void> {
    const superseded = () => this.generation !== generation;
    const documents = [...state.documents.values()];
    const parts: string[] = [];
    for (let i = 0; i < documents.length; i += COMPACTION_STEP) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (superseded()) return;
      parts.push(
        documents
          .slice(i, i + COMPACTION_STEP)
          .map(this.documentText)
          .join(","),
      );
    }
    const text = snapshotHeader(state) + "[" + parts.join(",") + "]}";
    const snapshotPath = path.join(this.dataDir, SNAPSHOT);
    const tmp = `${snapshotPath}.compacting`;
    const file = await open(tmp, "w");
    try {
      await file.writeFile(text);
      if (this.options.fsync !== false) await file.datasync();
    } finally {
      await file.close();
    }
    if (superseded()) {
      await rm(tmp, { force: true });
      return;
    }
    renameSync(tmp, snapshotPath);
    this.snapshotBytes = Buffer.byteLength(text);
    const oldJournal = path.join(this.dataDir, OLD_JOURNAL);
    if (existsSync(oldJournal)) unlinkSync(oldJournal);
  }

  /** The background compaction under way, to wait for (tests, shutdown); resolved when none. */
  compaction(): Promise<void> {
    return this.compacting?.done ?? Promise.resolve();
  }

  private closeJournal(): void {
    if (this.journalFd !== null) closeSync(this.journalFd);
    this.journalFd = null;
    this.journalEpoch += 1;
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
    this.closeJournal();
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

/** A snapshot's text up to its documents array (which the caller appends, then `}`). */
function snapshotHeader(state: PersistedState): string {
  const header = JSON.stringify({
    format: FORMAT,
    nextDocId: state.nextDocId,
    lastCreationTime: state.lastCreationTime,
    lastCommitTs: state.lastCommitTs.toString(),
  });
  return header.slice(0, -1) + ',"documents":';
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

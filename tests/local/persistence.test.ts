/**
 * The local server's snapshot and journal (local/convex-server/persistence.ts), on a real folder:
 * compaction in the background while commits go on, and restarts from every point a crash could
 * leave behind.
 */
import { cpSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  applyCommit,
  Persistence,
  type Doc,
  type PersistedState,
} from "../../local/convex-server/persistence";
import { removeDir, tempDir } from "./harness";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

function folder(): string {
  const dir = tempDir("persistence-test-");
  dirs.push(dir);
  return dir;
}

/** A state built the way the engine builds it: every commit appended, then applied. */
class Store {
  readonly state: PersistedState = {
    documents: new Map(),
    nextDocId: 10000,
    lastCreationTime: 0,
    lastCommitTs: 0n,
  };
  constructor(readonly persistence: Persistence) {}

  /** Writes `n` to document `id` (or deletes it with null), as one commit. */
  commit(writes: [string, number | null][]): void {
    const ts = this.state.lastCommitTs + 1n;
    const record = {
      ts,
      nextDocId: this.state.nextDocId + 1,
      lastCreationTime: Number(ts),
      writes: writes.map(([id, n]): [string, Doc | null] => [
        id,
        n === null ? null : { _id: id, _creationTime: 1, n, text: "x".repeat(200) },
      ]),
    };
    this.persistence.append(record);
    applyCommit(this.state, record);
  }

  /** The state as the engine hands it over: its own copy of the documents map. */
  snapshot(): PersistedState {
    return { ...this.state, documents: new Map(this.state.documents) };
  }
}

function restored(dir: string): PersistedState {
  const state = new Persistence(dir).load();
  return state;
}

function expectSame(actual: PersistedState, expected: PersistedState) {
  expect(Object.fromEntries(actual.documents)).toEqual(Object.fromEntries(expected.documents));
  expect(actual.nextDocId).toBe(expected.nextDocId);
  expect(actual.lastCreationTime).toBe(expected.lastCreationTime);
  expect(actual.lastCommitTs).toBe(expected.lastCommitTs);
}

/** 5,000 documents, some rewritten and some deleted, then a background compaction started. */
async function compactingStore(dir: string) {
  const store = new Store(new Persistence(dir, { compactAfterBytes: 1 }));
  for (let i = 0; i < 5_000; i += 50)
    store.commit(Array.from({ length: 50 }, (_, j): [string, number] => [`doc${i + j}`, i + j]));
  store.commit([
    ["doc1", -1],
    ["doc2", null],
  ]);
  await store.persistence.sync();
  const atStart = store.snapshot();
  expect(store.persistence.needsCompaction()).toBe(true);
  const done = store.persistence.startCompaction(atStart);
  return { store, atStart, done };
}

describe("compaction in the background", () => {
  it("snapshots the state as of its start while later commits go to a new journal; a restart has both", async () => {
    const dir = folder();
    const { store, atStart, done } = await compactingStore(dir);
    // It has not finished yet: the server goes on committing meanwhile.
    expect(existsSync(path.join(dir, "journal.old.ndjson"))).toBe(true);
    store.commit([
      ["doc1", 1_000_000],
      ["doc3", null],
      ["late", 7],
    ]);
    expect(store.persistence.needsCompaction()).toBe(false);
    await done;
    await store.persistence.sync();
    expect(existsSync(path.join(dir, "journal.old.ndjson"))).toBe(false);
    const snapshot = JSON.parse(readFileSync(path.join(dir, "snapshot.json"), "utf8"));
    expect(snapshot.documents).toHaveLength(atStart.documents.size);
    expect(snapshot.lastCommitTs).toBe(atStart.lastCommitTs.toString());
    expectSame(restored(dir), store.state);
    expect(restored(dir).documents.get("doc1")?.n).toBe(1_000_000);
    expect(restored(dir).documents.has("doc3")).toBe(false);
  });

  it("a crash before the new snapshot is in place restores from the old snapshot and both journals", async () => {
    const dir = folder();
    const { store, done } = await compactingStore(dir);
    store.commit([["doc4", 44]]);
    await store.persistence.sync();
    // What a kill -9 at this instant leaves on disk.
    const crashed = folder();
    cpSync(dir, crashed, { recursive: true });
    await done;
    expect(existsSync(path.join(crashed, "journal.old.ndjson"))).toBe(true);
    expectSame(restored(crashed), store.state);
  });

  it("a crash after the new snapshot but before the old journal is deleted restores the same state", async () => {
    const dir = folder();
    const { store, done } = await compactingStore(dir);
    const oldJournal = readFileSync(path.join(dir, "journal.old.ndjson"));
    store.commit([
      ["doc1", 5],
      ["doc5", null],
    ]);
    await done;
    await store.persistence.sync();
    // Replaying the old journal over the snapshot made from it ends where the snapshot is.
    writeFileSync(path.join(dir, "journal.old.ndjson"), oldJournal);
    expectSame(restored(dir), store.state);
  });

  it("a restart that finds an old journal compacts at once instead of setting another aside", async () => {
    const dir = folder();
    const { store, done } = await compactingStore(dir);
    await done;
    const crashed = folder();
    cpSync(dir, crashed, { recursive: true });
    writeFileSync(path.join(crashed, "journal.old.ndjson"), "");
    const again = new Persistence(crashed, { compactAfterBytes: 1 });
    const state = again.load();
    again.append({
      ts: state.lastCommitTs + 1n,
      nextDocId: state.nextDocId,
      lastCreationTime: 0,
      writes: [],
    });
    await again.startCompaction(state);
    expect(existsSync(path.join(crashed, "journal.old.ndjson"))).toBe(false);
    expect(existsSync(path.join(crashed, "journal.ndjson"))).toBe(false);
    expectSame(restored(crashed), { ...state });
    again.close();
    store.persistence.close();
  });

  it("a snapshot written at once (shutdown) supersedes one in the background, which leaves nothing behind", async () => {
    const dir = folder();
    const { store, done } = await compactingStore(dir);
    store.commit([["doc6", 66]]);
    store.persistence.compact(store.snapshot());
    await done;
    expect(existsSync(path.join(dir, "snapshot.json.compacting"))).toBe(false);
    expect(existsSync(path.join(dir, "journal.old.ndjson"))).toBe(false);
    expectSame(restored(dir), store.state);
    store.persistence.close();
  });

  it("waits until the journal outgrows the last snapshot before compacting again", async () => {
    const dir = folder();
    const { store, done } = await compactingStore(dir);
    await done;
    const snapshotBytes = readFileSync(path.join(dir, "snapshot.json")).length;
    let journalBytes = 0;
    while (journalBytes <= snapshotBytes) {
      expect(store.persistence.needsCompaction()).toBe(false);
      store.commit([["doc7", journalBytes]]);
      journalBytes = existsSync(path.join(dir, "journal.ndjson"))
        ? statSync(path.join(dir, "journal.ndjson")).size
        : 0;
    }
    expect(store.persistence.needsCompaction()).toBe(true);
    store.persistence.close();
  });
});

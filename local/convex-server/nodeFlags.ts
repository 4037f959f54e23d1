/**
 * Node flags the local Convex server runs with, wherever it is started (`npm run dev`, the tests'
 * harness; `npm run convex:local` repeats them in package.json).
 *
 * `--max-semi-space-size=64` (MiB, from 16): the server allocates fast and briefly (a document's
 * JSON on every read, a request's objects per webhook), so a larger young generation lets most of it
 * die before a scavenge and less gets copied and promoted. Measured at 80 sends/s (3,200
 * recipients, 40 extra webhooks/s, two runs each): CPU 47–53 s against 51–55 s, event-loop delay
 * p99 79–122 ms against 127–160 ms, sends/s 67–69 against 61–64 (docs/benchmarks.md).
 */
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=64"];

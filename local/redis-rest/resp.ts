/**
 * A minimal Redis client speaking RESP2 over one TCP connection: commands are written as arrays of
 * bulk strings and replies are read back in order, so any number of commands may be in flight
 * (pipelining). Replies: simple strings and bulk strings as strings, integers as numbers, nil as
 * null, arrays as arrays, and error replies as `RedisReplyError` values inside arrays (EXEC) or
 * rejected promises (a command's own error).
 */
import net from "node:net";

export type RedisReply = string | number | null | RedisReplyError | RedisReply[];

/** An error reply from Redis (`-ERR …`, `-NOSCRIPT …`, `-WRONGTYPE …`). */
export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RedisReplyError";
  }
}

/** The connection itself failed: refused, closed, or timed out. */
export class RedisConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RedisConnectionError";
  }
}

type Pending = { resolve: (reply: RedisReply) => void; reject: (error: Error) => void };

/** Encodes one command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly (string | number | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const value = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg), "utf8");
    parts.push(Buffer.from(`$${value.length}\r\n`), value, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

/**
 * Parses one reply from `buffer` at `offset`. Returns the reply and where the next one starts, or
 * null when the buffer does not hold a whole reply yet.
 */
export function parseReply(buffer: Buffer, offset = 0): { reply: RedisReply; next: number } | null {
  if (offset >= buffer.length) return null;
  const lineEnd = buffer.indexOf("\r\n", offset);
  if (lineEnd === -1) return null;
  const type = String.fromCharCode(buffer[offset]!);
  const line = buffer.toString("utf8", offset + 1, lineEnd);
  const after = lineEnd + 2;
  switch (type) {
    case "+":
      return { reply: line, next: after };
    case "-":
      return { reply: new RedisReplyError(line), next: after };
    case ":":
      return { reply: Number(line), next: after };
    case "$": {
      const length = Number(line);
      if (length < 0) return { reply: null, next: after };
      if (buffer.length < after + length + 2) return null;
      return { reply: buffer.toString("utf8", after, after + length), next: after + length + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { reply: null, next: after };
      const items: RedisReply[] = [];
      let next = after;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, next);
        if (!item) return null;
        items.push(item.reply);
        next = item.next;
      }
      return { reply: items, next };
    }
    default:
      throw new RedisConnectionError(`Unexpected reply type ${JSON.stringify(type)} from Redis`);
  }
}

export type RespClientOptions = {
  host?: string;
  port: number;
  /** AUTH password, when the server requires one. */
  password?: string;
  /** Give up connecting after this many milliseconds. */
  connectTimeoutMs?: number;
};

/**
 * One connection to Redis, opened on first use and again after it drops. Commands sent while it
 * is down fail at once with a RedisConnectionError (no queueing behind a dead server).
 */
export class RespClient {
  private socket: net.Socket | null = null;
  private connecting: Promise<net.Socket> | null = null;
  private pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly options: RespClientOptions) {}

  /** Sends one command and resolves with its reply; an error reply rejects. */
  async command(args: readonly (string | number)[]): Promise<RedisReply> {
    const [reply] = await this.send([args]);
    if (reply instanceof RedisReplyError) throw reply;
    return reply!;
  }

  /**
   * Sends several commands in one write and resolves with every reply in order (error replies
   * included as RedisReplyError values). Written together, they reach Redis back to back, so a
   * MULTI … EXEC sent this way is never interleaved with other commands on this connection.
   */
  async send(commands: readonly (readonly (string | number)[])[]): Promise<RedisReply[]> {
    const socket = await this.connect();
    const replies = commands.map(
      () =>
        new Promise<RedisReply>((resolve, reject) => {
          this.pending.push({ resolve, reject });
        }),
    );
    socket.write(Buffer.concat(commands.map((c) => encodeCommand(c))));
    return Promise.all(replies);
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private connect(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({ host: this.options.host ?? "127.0.0.1", port: this.options.port });
      socket.setNoDelay(true);
      const timer = setTimeout(
        () => socket.destroy(new Error(`timed out after ${this.options.connectTimeoutMs ?? 2_000} ms`)),
        this.options.connectTimeoutMs ?? 2_000,
      );
      socket.once("connect", () => {
        clearTimeout(timer);
        this.socket = socket;
        this.connecting = null;
        resolve(socket);
      });
      socket.on("data", (chunk: Buffer) => this.onData(chunk));
      socket.on("error", () => {
        /* reported through "close" */
      });
      socket.once("close", () => {
        clearTimeout(timer);
        const error = new RedisConnectionError(
          `Redis at ${this.options.host ?? "127.0.0.1"}:${this.options.port} is unreachable`,
        );
        if (this.socket === socket) this.socket = null;
        if (this.connecting) {
          this.connecting = null;
          reject(error);
        }
        this.buffer = Buffer.alloc(0);
        const pending = this.pending;
        this.pending = [];
        for (const p of pending) p.reject(error);
      });
    }).then(async (socket) => {
      if (this.options.password) {
        const reply = await this.sendOn(socket, ["AUTH", this.options.password]);
        if (reply instanceof RedisReplyError) throw reply;
      }
      return socket;
    });
    return this.connecting;
  }

  private sendOn(socket: net.Socket, args: (string | number)[]): Promise<RedisReply> {
    const reply = new Promise<RedisReply>((resolve, reject) => this.pending.push({ resolve, reject }));
    socket.write(encodeCommand(args));
    return reply;
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let offset = 0;
    for (;;) {
      let parsed: ReturnType<typeof parseReply>;
      try {
        parsed = parseReply(this.buffer, offset);
      } catch (error) {
        this.socket?.destroy(error as Error);
        return;
      }
      if (!parsed) break;
      offset = parsed.next;
      this.pending.shift()?.resolve(parsed.reply);
    }
    this.buffer = offset === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(offset);
  }
}

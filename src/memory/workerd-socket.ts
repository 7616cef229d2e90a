import { connect } from "cloudflare:sockets";
import { Buffer } from "node:buffer";

/**
 * A TCP socket for postgres.js in workerd (its `socket` option), in place of the one its Workers
 * build brings. That one keeps reading after postgres.js has closed the connection and removed
 * its listeners, so the read's "Stream was cancelled" is emitted as an `error` no one listens to:
 * an unhandled rejection on every closed or refused connection (porsager/postgres#1202). This one
 * stops at close and reports an error only while someone is listening. Plain TCP only: Hyperdrive
 * is reached without TLS from the Worker (it speaks TLS to the origin itself).
 */
type Listener = (...args: unknown[]) => void;

/** The part of Node's EventEmitter that postgres.js calls on its socket. */
class Emitter {
  private listeners = new Map<string, Listener[]>();

  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }

  once(event: string, listener: Listener): this {
    const wrapped: Listener = (...args) => {
      this.removeListener(event, wrapped);
      listener(...args);
    };
    return this.on(event, wrapped);
  }

  removeListener(event: string, listener: Listener): this {
    this.listeners.set(
      event,
      (this.listeners.get(event) ?? []).filter((other) => other !== listener),
    );
    return this;
  }

  removeAllListeners(): this {
    this.listeners.clear();
    return this;
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  protected emit(event: string, ...args: unknown[]): void {
    for (const listener of this.listeners.get(event) ?? []) listener(...args);
  }
}

class WorkerdSocket extends Emitter {
  readyState: "open" | "closed" = "open";
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(private readonly raw: Socket) {
    super();
    this.writer = raw.writable.getWriter();
    this.reader = raw.readable.getReader();
    raw.closed.then(
      () => this.finish(),
      (error: unknown) => this.fail(error),
    );
    void this.read();
  }

  write(data: Uint8Array, callback?: () => void): boolean {
    this.writer.write(data).then(callback, (error: unknown) => this.fail(error));
    return true;
  }

  end(data?: Uint8Array): void {
    if (data) this.write(data, () => this.close());
    else this.close();
  }

  destroy(): void {
    this.close();
  }

  private close(): void {
    this.raw.close().catch(() => {});
    this.finish();
  }

  private async read(): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await this.reader.read();
        if (done || this.readyState === "closed") break;
        this.emit("data", Buffer.from(value));
      }
    } catch (error) {
      this.fail(error);
    }
    this.finish();
  }

  private fail(error: unknown): void {
    if (this.readyState === "closed") return;
    if (this.listenerCount("error") > 0) this.emit("error", error);
    this.finish();
  }

  private finish(): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.emit("close");
  }
}

/** postgres.js's `socket` option: connects to the first host of the parsed connection string. */
export function workerdSocket(options: { host: string[]; port: number[]; ssl?: unknown }): WorkerdSocket {
  // Said plainly rather than failing inside postgres.js's TLS upgrade, which expects its own socket.
  if (options.ssl) throw new Error("MEMORY_DB's connection string asks for TLS (sslmode); the Worker reaches Hyperdrive in plain TCP");
  return new WorkerdSocket(connect({ hostname: options.host[0]!, port: options.port[0]! }));
}

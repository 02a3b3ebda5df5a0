/**
 * What the runtime offers, looked up at call time and never imported
 * statically (so browser bundles stay free of `node:` modules): Deno's own
 * networking where `Deno` exists, `node:net` / `node:http` (Node.js ≥ 20.16,
 * Bun) through `process.getBuiltinModule` elsewhere. Internal: the types here
 * are the small slices this library uses, not the runtimes' own.
 *
 * @module
 */

/** The slice of a `Deno.Conn` the TCP transport uses. */
export interface DenoConnLike {
  /** Reads into `p`; `null` at EOF. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some of `p`; the count written. */
  write(p: Uint8Array): Promise<number>;
  /** Closes the connection. */
  close(): void;
  /** Ends our side (FIN); reading goes on (TCP). Without it, closing closes the connection. */
  closeWrite?(): Promise<void>;
  /** Disables Nagle's algorithm (TCP only). */
  setNoDelay?(noDelay?: boolean): void;
  /** The peer's address (`hostname`/`port` for TCP; see {@linkcode netAddr}). */
  readonly remoteAddr: object;
  /** The connection's bytes as Web Streams. */
  readonly readable: ReadableStream<Uint8Array>;
  /** The connection's bytes as Web Streams. */
  readonly writable: WritableStream<Uint8Array>;
}

/** The slice of a `Deno.Listener` the transports use. */
export interface DenoListenerLike {
  /** The bound address (see {@linkcode netAddr}). */
  readonly addr: object;
  /** The next connection. */
  accept(): Promise<DenoConnLike>;
  /** Stops listening. */
  close(): void;
}

/** The slice of the `Deno` namespace the transports use. */
export interface DenoLike {
  /** `Deno.connect`. */
  connect(options: { hostname: string; port: number; signal?: AbortSignal }): Promise<DenoConnLike>;
  /** `Deno.listen`. */
  listen(options: { hostname: string; port: number }): DenoListenerLike;
  /** `Deno.upgradeWebSocket`. */
  upgradeWebSocket?(request: Request): { socket: WebSocket; response: Response };
}

/** The slice of a `node:net` Socket the transports use. */
export interface NodeSocketLike {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly destroyed: boolean;
  readonly writableNeedDrain?: boolean;
  setNoDelay(noDelay?: boolean): unknown;
  write(data: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  end(callback?: () => void): unknown;
  destroy(error?: Error): unknown;
  pause(): unknown;
  resume(): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

/** The slice of a `node:net` Server the transports use. */
export interface NodeServerLike {
  listen(options: { port: number; host: string }): unknown;
  address(): { address: string; port: number } | string | null;
  close(callback?: (error?: Error) => void): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  emit(event: string, ...args: unknown[]): boolean;
}

/** The slice of `node:net` the transports use. */
export interface NodeNetLike {
  createConnection(
    options: { host: string; port: number; allowHalfOpen?: boolean },
  ): NodeSocketLike;
  createServer(options?: { pauseOnConnect?: boolean; allowHalfOpen?: boolean }): NodeServerLike;
}

/** A Deno address's host and port (absent for non-TCP addresses). */
export function netAddr(addr: object): { hostname?: string; port?: number } {
  return addr as { hostname?: string; port?: number };
}

/** The `Deno` namespace, or undefined outside Deno. */
export function denoRuntime(): DenoLike | undefined {
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  return typeof deno?.listen === "function" ? deno : undefined;
}

/**
 * A Node.js built-in module through `process.getBuiltinModule` (Node.js ≥
 * 20.16, Deno 2, Bun), or undefined where there is none (browsers, Workers
 * without compatibility flags).
 */
export function nodeBuiltin<T>(name: string): T | undefined {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } })
      .process;
    if (typeof proc?.getBuiltinModule !== "function") return undefined;
    return (proc.getBuiltinModule(name) ?? undefined) as T | undefined;
  } catch {
    return undefined;
  }
}

/** The name of this runtime, for error messages. */
export function runtimeName(): string {
  const g = globalThis as {
    Deno?: { version?: { deno?: string } };
    Bun?: { version?: string };
    process?: { versions?: { node?: string } };
    navigator?: { userAgent?: string };
  };
  if (g.Deno?.version?.deno) return `Deno ${g.Deno.version.deno}`;
  if (g.Bun?.version) return `Bun ${g.Bun.version}`;
  if (g.process?.versions?.node) return `Node.js ${g.process.versions.node}`;
  return g.navigator?.userAgent ?? "this runtime";
}

/** An `Error` saying which capability this runtime lacks. */
export function unsupported(what: string, needs: string): Error {
  return new Error(`${what} is not available in ${runtimeName()}: it needs ${needs}`);
}

/** `node:net`, or an error naming what is missing. */
export function requireNodeNet(what: string): NodeNetLike {
  const net = nodeBuiltin<NodeNetLike>("node:net");
  if (typeof net?.createConnection !== "function") {
    throw unsupported(
      what,
      "Deno.connect/Deno.listen or node:net (Node.js ≥ 20.16 or Bun, through process.getBuiltinModule)",
    );
  }
  return net;
}

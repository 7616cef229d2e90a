import { NODE_TOKEN_MAX_TTL_SECONDS } from "./config";

/**
 * What a topic object is told when SAGE revokes: a node (every token with `iat` up to
 * `revokedBefore`, in Unix seconds) or one token by `jti`.
 */
export type RevocationNotice =
  | { kind: "node"; nodeId: string; revokedBefore: number }
  | { kind: "token"; nodeId: string; jti: string; expiresAt: number };

interface Entry {
  /** Node entries: the revoked-before second. */
  revokedBefore?: number;
  /** When no token the entry could match is still alive (ms); the alarm prunes it then. */
  keepUntil: number;
}

const NODE_PREFIX = "revoked:node:";
const TOKEN_PREFIX = "revoked:jti:";

/**
 * A topic object's own copy of the revocations pushed to it, in its storage so it survives
 * eviction. It answers synchronously, so every emit can check revocation without I/O, and it
 * refuses a socket whose connect passed D1 just before the revocation was written.
 */
export class RevocationList {
  private readonly nodes = new Map<string, Entry>();
  private readonly tokens = new Map<string, Entry>();

  constructor(private readonly storage: SyncKvStorage) {
    for (const [key, entry] of storage.list<Entry>({ prefix: NODE_PREFIX })) this.nodes.set(key.slice(NODE_PREFIX.length), entry);
    for (const [key, entry] of storage.list<Entry>({ prefix: TOKEN_PREFIX })) this.tokens.set(key.slice(TOKEN_PREFIX.length), entry);
  }

  add(notice: RevocationNotice): void {
    if (notice.kind === "node") {
      const revokedBefore = Math.max(notice.revokedBefore, this.nodes.get(notice.nodeId)?.revokedBefore ?? 0);
      const entry = { revokedBefore, keepUntil: (revokedBefore + NODE_TOKEN_MAX_TTL_SECONDS) * 1000 };
      this.nodes.set(notice.nodeId, entry);
      this.storage.put(NODE_PREFIX + notice.nodeId, entry);
    } else {
      const entry = { keepUntil: notice.expiresAt };
      this.tokens.set(notice.jti, entry);
      this.storage.put(TOKEN_PREFIX + notice.jti, entry);
    }
  }

  /** Whether a token-holding socket's credential has been revoked. */
  revokes(node: { nodeId: string; jti: string | null; iat: number }): boolean {
    if (node.jti === null) return false;
    if (this.tokens.has(node.jti)) return true;
    const revokedBefore = this.nodes.get(node.nodeId)?.revokedBefore;
    return revokedBefore !== undefined && node.iat <= revokedBefore;
  }

  /** Drops entries no live token can match any more; returns when the next one can go. */
  prune(now: number): number | undefined {
    let next: number | undefined;
    for (const [map, prefix] of [
      [this.nodes, NODE_PREFIX],
      [this.tokens, TOKEN_PREFIX],
    ] as const) {
      for (const [key, entry] of map) {
        if (entry.keepUntil <= now) {
          map.delete(key);
          this.storage.delete(prefix + key);
        } else {
          next = Math.min(next ?? entry.keepUntil, entry.keepUntil);
        }
      }
    }
    return next;
  }
}

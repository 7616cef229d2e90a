// The peer for the bench (issue 9): Better Auth as one Cloudflare Worker, email and password, with
// the D1 binding itself as its database (Better Auth recognises a D1 binding and uses its own
// Kysely D1 dialect). Bundled by `wrangler deploy --dry-run` (bench/peer/wrangler.peer.toml), as
// our Worker is, and served by bench/peer/index.mjs in the same workerd as ours.
//
// Bindings: DB (D1), BETTER_AUTH_SECRET, BETTER_AUTH_URL; optionally PEER_VARIANT (an informative
// variant from auth-options.mjs: "cookie-cache" or "joins"; Better Auth's defaults otherwise) and
// PEER_COUNT_D1 = "1" (diagnostics only, never loaded: every response says how many D1 statements
// the request ran, and which, in x-bench-d1-* headers).
import { betterAuth } from "better-auth";
import { peerAuthOptions } from "./auth-options.mjs";

interface Env {
  DB: D1Database;
  BETTER_AUTH_SECRET: string;
  BETTER_AUTH_URL: string;
  PEER_VARIANT?: "default" | "cookie-cache" | "joins";
  PEER_COUNT_D1?: string;
}

/** Statements the current request sent to D1 (diagnostics: one request at a time). */
const statements: string[] = [];

/** A D1 binding that records each statement it prepares or runs (the diagnostic instance only). */
function countingD1(db: D1Database): D1Database {
  return new Proxy(db, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property === "prepare") {
        return (query: string) => {
          statements.push(query);
          return target.prepare(query);
        };
      }
      if (property === "exec") {
        return (query: string) => {
          statements.push(`exec: ${query}`);
          return target.exec(query);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function createAuth(env: Env) {
  return betterAuth({
    ...peerAuthOptions(env.PEER_VARIANT ?? "default"),
    database: env.PEER_COUNT_D1 === "1" ? countingD1(env.DB) : env.DB,
    secret: env.BETTER_AUTH_SECRET,
    baseURL: env.BETTER_AUTH_URL,
  });
}

/** One Better Auth instance per isolate, made on the first request (the bindings arrive with it). */
let auth: ReturnType<typeof createAuth> | undefined;

function authFor(env: Env): ReturnType<typeof createAuth> {
  auth ??= createAuth(env);
  return auth;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/ping") return new Response("pong");
    if (!pathname.startsWith("/api/auth/")) return new Response("not found", { status: 404 });
    if (env.PEER_COUNT_D1 !== "1") return authFor(env).handler(request);
    statements.length = 0;
    const response = await authFor(env).handler(request);
    const counted = new Response(response.body, response);
    counted.headers.set("x-bench-d1-statements", String(statements.length));
    counted.headers.set("x-bench-d1-sql", JSON.stringify(statements.map((sql) => sql.slice(0, 1000))));
    return counted;
  },
} satisfies ExportedHandler<Env>;

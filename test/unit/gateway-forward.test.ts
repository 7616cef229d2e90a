import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../src/errors";
import { forwardToOrigin, originRequest } from "../../src/gateway/forward";
import { headersForClient, headersForOrigin } from "../../src/gateway/headers";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Replaces the runtime's `fetch` for one test: the stub plays the origin. */
function stubOrigin(answer: (request: Request) => Response | Promise<Response>): Request[] {
  const seen: Request[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    seen.push(request);
    return answer(request);
  });
  return seen;
}

const CLIENT_HEADERS = {
  Accept: "application/json",
  "Content-Type": "application/json",
  Authorization: "Bearer client-access-token",
  "X-API-Key": "hdy_client_key",
  "X-Heady-PQC-Token": "client-pqc-token",
  "X-Heady-User": "admin",
  "x-heady-role": "admin",
  "X-HEADY-ASSERTION": "forged",
  "X-Forwarded-For": "203.0.113.9",
  "X-Forwarded-Host": "admin.internal",
  Forwarded: "for=203.0.113.9;host=admin.internal",
  Connection: "keep-alive, X-Hop-Secret",
  "X-Hop-Secret": "only for the next hop",
  "Keep-Alive": "timeout=5",
  TE: "trailers",
  Upgrade: "websocket",
  "Proxy-Authorization": "Basic cHJveHk6cHJveHk=",
  Cookie: "theme=dark; __Host-heady_session=session-secret; lang=en",
  "User-Agent": "gateway-test",
  "X-Custom": "kept",
};

describe("headersForOrigin", () => {
  it("strips identity, forwarding, hop-by-hop and credential headers; keeps the rest and the other cookies", () => {
    const outgoing = headersForOrigin(new Headers(CLIENT_HEADERS), false);
    expect(Object.fromEntries(outgoing)).toEqual({
      accept: "application/json",
      "content-type": "application/json",
      cookie: "theme=dark; lang=en",
      "user-agent": "gateway-test",
      "x-custom": "kept",
    });
  });

  it("with forwardCredentials, passes the credentials (PQC token included) but still no other X-Heady-*", () => {
    const outgoing = headersForOrigin(new Headers(CLIENT_HEADERS), true);
    expect(outgoing.get("authorization")).toBe("Bearer client-access-token");
    expect(outgoing.get("x-api-key")).toBe("hdy_client_key");
    expect(outgoing.get("x-heady-pqc-token")).toBe("client-pqc-token");
    expect(outgoing.get("cookie")).toBe("theme=dark; __Host-heady_session=session-secret; lang=en");
    for (const name of ["x-heady-user", "x-heady-role", "x-heady-assertion", "x-forwarded-for", "forwarded", "x-hop-secret", "upgrade"]) {
      expect(outgoing.has(name), name).toBe(false);
    }
  });

  it("drops the Cookie header when the session cookie was all it held", () => {
    expect(headersForOrigin(new Headers({ Cookie: "__Host-heady_session=s" }), false).has("cookie")).toBe(false);
  });
});

describe("headersForClient", () => {
  it("strips hop-by-hop, X-Heady-* and any Set-Cookie for the session cookie; keeps the origin's own cookies", () => {
    const fromOrigin = new Headers({
      "Content-Type": "text/plain",
      Connection: "close, X-Origin-Hop",
      "X-Origin-Hop": "1",
      "Transfer-Encoding": "chunked",
      "X-Heady-Receipt": "forged-receipt",
      "Cache-Control": "no-store",
    });
    fromOrigin.append("Set-Cookie", "__Host-heady_session=planted; Path=/; Secure; HttpOnly");
    fromOrigin.append("Set-Cookie", "origin_pref=1; Path=/api");
    const outgoing = headersForClient(fromOrigin);
    expect(outgoing.getSetCookie()).toEqual(["origin_pref=1; Path=/api"]);
    expect(outgoing.get("content-type")).toBe("text/plain");
    expect(outgoing.get("cache-control")).toBe("no-store");
    for (const name of ["connection", "x-origin-hop", "transfer-encoding", "x-heady-receipt"]) expect(outgoing.has(name), name).toBe(false);
  });
});

describe("originRequest", () => {
  const incoming = (init: RequestInit & { url?: string } = {}) =>
    new Request(init.url ?? "https://id.heady.test/gw/api/Repo/%72x?ref=main&x=1", {
      method: "POST",
      headers: CLIENT_HEADERS,
      body: '{"a":1}',
      ...init,
    });

  it("targets the origin plus the raw path and query, with the assertion and the body", async () => {
    const request = originRequest(
      incoming(),
      { origin: "https://repos.test", path: "/api/Repo/%72x", search: "?ref=main&x=1" },
      "signed.assertion.jws",
      false,
    );
    expect(request.url).toBe("https://repos.test/api/Repo/%72x?ref=main&x=1");
    expect(request.method).toBe("POST");
    expect(request.redirect).toBe("manual");
    expect(request.headers.get("X-Heady-Assertion")).toBe("signed.assertion.jws");
    expect(request.headers.has("authorization")).toBe(false);
    expect(await request.text()).toBe('{"a":1}');
  });

  it("a path that looks protocol-relative cannot change the host", () => {
    const request = originRequest(
      incoming({ method: "GET", body: null }),
      { origin: "https://repos.test", path: "//evil.test/x", search: "" },
      "a.b.c",
      false,
    );
    expect(new URL(request.url).host).toBe("repos.test");
  });

  it("GET and HEAD carry no body", () => {
    const request = originRequest(
      incoming({ method: "GET", body: null }),
      { origin: "http://127.0.0.1:8080", path: "/x", search: "" },
      "a.b.c",
      false,
    );
    expect(request.body).toBeNull();
    expect(request.url).toBe("http://127.0.0.1:8080/x");
  });
});

describe("forwardToOrigin", () => {
  const send = (timeoutMs = 1000) =>
    forwardToOrigin(new Request("https://repos.test/api/x", { redirect: "manual" }), { timeoutMs, requestId: "req-1" });

  async function refusal(promise: Promise<Response>): Promise<ApiError> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }

  it("relays 2xx, 3xx (not followed) and 4xx answers with their status, headers and body", async () => {
    for (const [status, body, headers] of [
      [201, "created", { "Content-Type": "text/plain", ETag: '"v1"' }],
      [302, "", { Location: "https://elsewhere.test/" }],
      [404, '{"origin":"not here"}', { "Content-Type": "application/json" }],
    ] as const) {
      stubOrigin(() => new Response(body || null, { status, headers }));
      const response = await send();
      expect(response.status).toBe(status);
      expect(await response.text()).toBe(body);
      for (const [name, value] of Object.entries(headers)) expect(response.headers.get(name)).toBe(value);
      vi.restoreAllMocks();
    }
  });

  it("a 5xx from the origin becomes our 502, without the origin's body, keeping Retry-After", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    stubOrigin(() => new Response("TypeError: at handler (/srv/app/internal/db.js:42)", { status: 503, headers: { "Retry-After": "30" } }));
    const error = await refusal(send());
    expect(error.code).toBe("bad_gateway");
    expect(error.status).toBe(502);
    expect(error.message).toBe("The origin failed to handle the request (status 503).");
    expect(error.headers).toEqual({ "Retry-After": "30" });
  });

  it("an unreachable origin is 502 with no internal text", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    stubOrigin(() => Promise.reject(new TypeError("connect ECONNREFUSED 10.0.0.7:443 (internal-db.cluster.local)")));
    const error = await refusal(send());
    expect(error.code).toBe("bad_gateway");
    expect(error.message).toBe("The origin could not be reached.");
  });

  it("an origin that does not start answering in time is 504", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    stubOrigin(
      (request) =>
        new Promise((_, reject) => {
          request.signal.addEventListener("abort", () => reject(request.signal.reason));
        }),
    );
    const started = Date.now();
    const error = await refusal(send(150));
    expect(error.code).toBe("gateway_timeout");
    expect(error.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("the timeout covers the answer's head only: a slow body that started in time arrives whole", async () => {
    stubOrigin(() => {
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode("first "));
          await new Promise((resolve) => setTimeout(resolve, 300));
          controller.enqueue(new TextEncoder().encode("second"));
          controller.close();
        },
      });
      return new Response(body, { status: 200 });
    });
    const response = await send(100);
    expect(await response.text()).toBe("first second");
  });
});

import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { bodySize } from "../middleware/body-size";
import { validationHook } from "../middleware/validation";
import { finishFlow } from "../providers/flow";
import { ProviderParam } from "../providers/schemas";
import { errorResponses } from "../schemas/common";

/**
 * The providers' redirect target. Mounted ahead of CORS: a provider that answers with a form POST
 * (Apple) sends its own Origin, and what protects this route is the single-use state bound to the
 * browser, not the Origin.
 */
export const providerCallbackRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["Sign-in providers"];
/** A form_post callback carries a code, a state, an ID token and a little user JSON. */
const MAX_CALLBACK_BYTES = 16 * 1024;

const description =
  "Checks the single-use `state` and that it comes back to the browser that started the flow, the provider's `iss` (RFC 9207), the code exchange (with the PKCE verifier), and for OIDC the ID token (signature from the provider's JWKS, `iss`, `aud`, `exp`, `iat`, `nonce`; `alg: none` refused). Then signs the user in as a password login does (session cookie, audit event with its receipt in `X-Heady-Receipt`) and redirects to `redirectTo#ticket=…`; an account with a second factor gets no session or cookie yet, and its ticket answers the MFA challenge instead of tokens. Every refusal is a 4xx (502 when the provider is unreachable) and an audit event.";

providerCallbackRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{provider}",
    tags: TAG,
    summary: "Provider callback",
    description,
    request: { params: ProviderParam },
    responses: { 302: { description: "Signed in (or linked): to redirectTo" }, ...errorResponses(400, 403, 404, 409) },
  }),
  (c) => finishFlow(c, c.req.valid("param").provider, new URL(c.req.url).searchParams),
);

providerCallbackRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{provider}",
    tags: TAG,
    summary: "Provider callback (response_mode=form_post)",
    description,
    middleware: [bodySize(MAX_CALLBACK_BYTES)] as const,
    request: { params: ProviderParam },
    responses: { 302: { description: "Signed in (or linked): to redirectTo" }, ...errorResponses(400, 403, 404, 409, 413) },
  }),
  async (c) => {
    const form = await c.req.parseBody();
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(form)) if (typeof value === "string") params.set(name, value);
    return finishFlow(c, c.req.valid("param").provider, params);
  },
);

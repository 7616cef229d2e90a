import type { Handler } from "hono";
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { RESET_PASSWORD_PAGE_PATH, VERIFY_EMAIL_PAGE_PATH } from "../mail/messages";
import { ACCOUNT_PAGE_PATH, SIGN_IN_PAGE_PATH } from "../providers/config";
import { enabledProviders } from "../routes/providers";
import { AccountPage } from "./account";
import { DocsPage } from "./docs";
import { ResetPasswordPage, VerifyEmailPage } from "./mailed-links";
import { OnboardingPage } from "./onboarding";
import { RegisterPage } from "./register";
import { renderPage } from "./render";
import { safeReturnPath } from "./return-path";
import { STYLESHEET_PATH } from "./security";
import { SignInPage } from "./sign-in";
import { STYLESHEET } from "./style";

export const REGISTER_PAGE_PATH = "/register";
export const ONBOARDING_PAGE_PATH = "/onboarding";
export const DOCS_PAGE_PATH = "/docs";

/**
 * The hosted pages: server-rendered HTML with small nonce'd scripts that call the same JSON API as
 * any client. On pages for a signed-in person, an API answer of 401 sends the person to sign in,
 * and back afterwards.
 */
export const pageRoutes = new Hono<AppEnv>();

/** Every hosted page's path, as registered below: the only places sign-in's `?return=` may lead. */
const PAGE_PATHS = new Set<string>();

function addPage(path: string, handler: Handler<AppEnv>): void {
  PAGE_PATHS.add(path);
  pageRoutes.get(path, handler);
}

pageRoutes.get(STYLESHEET_PATH, (c) =>
  c.body(STYLESHEET, 200, {
    "Content-Type": "text/css; charset=utf-8",
    "Cache-Control": "public, max-age=300",
    "X-Content-Type-Options": "nosniff",
  }),
);

for (const path of ["/", SIGN_IN_PAGE_PATH]) {
  addPage(path, (c) =>
    renderPage(c, (nonce) => (
      <SignInPage
        nonce={nonce}
        returnTo={safeReturnPath(c.req.query("return"), PAGE_PATHS)}
        providers={enabledProviders(c.get("config"))}
      />
    )),
  );
}

addPage(REGISTER_PAGE_PATH, (c) => renderPage(c, (nonce) => <RegisterPage nonce={nonce} next={ONBOARDING_PAGE_PATH} />));

// No session check here: the session cookie is SameSite=Strict, so a page reached from another
// site (a provider linking comes back to /account) arrives without it. The page's first API call,
// same-site and so with the cookie, finds out, and a 401 sends the person to sign in.
addPage(ACCOUNT_PAGE_PATH, (c) => {
  const config = c.get("config");
  return renderPage(c, (nonce) => (
    <AccountPage nonce={nonce} providers={enabledProviders(config)} linkReturn={`${config.providers.publicUrl}${ACCOUNT_PAGE_PATH}`} />
  ));
});

addPage(ONBOARDING_PAGE_PATH, (c) => renderPage(c, (nonce) => <OnboardingPage nonce={nonce} />));

addPage(VERIFY_EMAIL_PAGE_PATH, (c) => renderPage(c, (nonce) => <VerifyEmailPage nonce={nonce} />));
addPage(RESET_PASSWORD_PAGE_PATH, (c) => renderPage(c, (nonce) => <ResetPasswordPage nonce={nonce} />));
addPage(DOCS_PAGE_PATH, (c) => renderPage(c, (nonce) => <DocsPage nonce={nonce} />));

import accountScript from "./client/account.ts?script";
import docsScript from "./client/docs.ts?script";
import oauthScript from "./client/oauth.ts?script";
import onboardingScript from "./client/onboarding.ts?script";
import registerScript from "./client/register.ts?script";
import resetPasswordScript from "./client/reset-password.ts?script";
import signInScript from "./client/sign-in.ts?script";
import verifyEmailScript from "./client/verify-email.ts?script";

/**
 * Every page's client script, by the name of its module under ./client, compiled with the helpers
 * it uses from client/shared (src/pages/page-script.d.ts). One module imports them all so the Worker
 * bundle holds them side by side: each carries its own copy of those helpers, and gzip (a 32 KiB
 * window) stores the copies after the first almost for free. Measured: 328.6 KiB gzip (328.4 with the
 * hand-written scripts), against 330.4 KiB with each script imported by its page's module, which
 * test/e2e/bundle.test.ts's 330 KiB guard refuses.
 */
export const CLIENT_SCRIPTS = {
  account: accountScript,
  docs: docsScript,
  oauth: oauthScript,
  onboarding: onboardingScript,
  register: registerScript,
  "reset-password": resetPasswordScript,
  "sign-in": signInScript,
  "verify-email": verifyEmailScript,
} as const;

export type ClientScript = keyof typeof CLIENT_SCRIPTS;

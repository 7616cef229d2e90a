import { isLocalRun } from "../platform/local-run";
import type { ProviderDefinition } from "./definition";
import { PROVIDERS } from "./registry";

/** A provider this deployment has credentials for. */
export interface EnabledProvider {
  definition: ProviderDefinition;
  clientId: string;
  clientSecret: string;
  /** The per-deployment setting (tenant, domain, host, shop, issuer), or its default. */
  setting: string | undefined;
}

export interface ProvidersConfig {
  enabled: ReadonlyMap<string, EnabledProvider>;
  /** Where browsers reach this Worker; redirect URIs are `<publicUrl>/api/provider/callback/<id>`. */
  publicUrl: string;
  /** Exact `origin + path` values `redirectTo` may take; the first is the default. */
  redirectAllowlist: readonly string[];
}

/** The environment names of a provider's variables: `OAUTH_<ID>_CLIENT_ID` and so on. */
export function providerVariable(provider: ProviderDefinition, suffix: string): string {
  return `OAUTH_${provider.id.toUpperCase()}_${suffix}`;
}

/** The path of the hosted sign-in page, which is always an allowed `redirectTo`. */
export const SIGN_IN_PAGE_PATH = "/sign-in";

/** The hosted account page, also always allowed: linking a provider there comes back to it. */
export const ACCOUNT_PAGE_PATH = "/account";

/** `origin + pathname` of an absolute http(s) URL without credentials, query or fragment; undefined otherwise. */
export function exactRedirectTarget(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username || url.password || url.search || url.hash) return undefined;
  // The URL parser normalises (dot segments, case of the host); the original must already be in that form.
  return url.href === value ? url.origin + url.pathname : undefined;
}

/**
 * Reads the providers' variables. A provider is enabled when both its client id and secret are
 * set; one without the other, a bad setting, or a development-only provider outside a local run is
 * a problem the caller turns into a `ConfigError`.
 */
export function loadProvidersConfig(
  vars: Record<string, unknown>,
  environment: string,
  issuer: string,
  allowedOrigins: ReadonlySet<string> = new Set(),
): { config: ProvidersConfig; problems: string[] } {
  const problems: string[] = [];
  const text = (name: string) => (typeof vars[name] === "string" && vars[name] !== "" ? (vars[name] as string) : undefined);

  const publicUrl = text("PUBLIC_URL") ?? new URL(issuer).origin;
  if (exactRedirectTarget(`${publicUrl}/`) !== `${publicUrl}/`)
    problems.push("PUBLIC_URL must be a bare origin such as https://id.example.com");

  const enabled = new Map<string, EnabledProvider>();
  for (const definition of PROVIDERS) {
    const clientId = text(providerVariable(definition, "CLIENT_ID"));
    const clientSecret = text(providerVariable(definition, "CLIENT_SECRET"));
    if (!clientId && !clientSecret) continue;
    if (!clientId || !clientSecret) {
      problems.push(
        `${providerVariable(definition, "CLIENT_ID")} and ${providerVariable(definition, "CLIENT_SECRET")} must be set together`,
      );
      continue;
    }
    if (definition.developmentOnly && !isLocalRun(environment)) {
      problems.push(`the ${definition.id} provider is for local runs only (ENVIRONMENT=local or test); a deployment refuses it`);
      continue;
    }
    const settingName = definition.setting && providerVariable(definition, definition.setting.key);
    const setting = settingName ? (text(settingName) ?? definition.setting?.defaultValue) : undefined;
    if (definition.setting && (!setting || !definition.setting.pattern.test(setting))) {
      problems.push(`${settingName} must be ${definition.setting.description}`);
      continue;
    }
    // Loopback http is for the dev IdP and the tests; oauth4webapi would refuse it in a deployment anyway.
    if (!isLocalRun(environment) && setting?.startsWith("http:")) {
      problems.push(`${settingName} must use https outside a local run (ENVIRONMENT=local or test)`);
      continue;
    }
    enabled.set(definition.id, { definition, clientId, clientSecret, setting });
  }

  const configured = (text("PROVIDER_REDIRECT_URLS") ?? "")
    .split(",")
    .map((value) => value.trim())
    .filter(Boolean);
  for (const entry of configured) {
    if (exactRedirectTarget(entry) !== entry) {
      problems.push(`PROVIDER_REDIRECT_URLS entries must be absolute URLs without query or fragment: ${entry}`);
      continue;
    }
    // The page there posts its ticket to /api/provider/tokens; CORS must let it.
    const { origin } = new URL(entry);
    if (origin !== publicUrl && !allowedOrigins.has(origin))
      problems.push(`PROVIDER_REDIRECT_URLS: ${origin} is not in ALLOWED_ORIGINS, so its page could not collect its tokens`);
  }
  const redirectAllowlist = [...new Set([...configured, `${publicUrl}${SIGN_IN_PAGE_PATH}`, `${publicUrl}${ACCOUNT_PAGE_PATH}`])];
  return { config: { enabled, publicUrl, redirectAllowlist }, problems };
}

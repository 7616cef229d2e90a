import type { SignedIn } from "./accounts";
import type { ApiResponse, RequestOptions } from "./http";
import { STAGE_INPUTS } from "./onboarding-inputs";
import { request } from "./worker";

export { STAGE_INPUTS };

/** Where the routes are mounted: the card's paths and the API's. */
export const MOUNTS = ["/onboarding", "/api/onboarding"] as const;

/** Signed in by access token unless `options` says otherwise. */
function as(user: SignedIn, options: RequestOptions = {}): RequestOptions {
  return options.cookie !== undefined || options.headers !== undefined ? options : { token: user.accessToken, ...options };
}

export function onboardingStatus(user: SignedIn, options: RequestOptions = {}, mount: string = MOUNTS[0]): Promise<ApiResponse> {
  return request("GET", `${mount}/status`, as(user, options));
}

export function completeStage(
  user: SignedIn,
  body: unknown,
  options: RequestOptions = {},
  mount: string = MOUNTS[0],
): Promise<ApiResponse> {
  return request("POST", `${mount}/complete`, { ...as(user, options), body });
}

/** Saves the four data stages; throws unless each answers 200. */
export async function saveDataStages(user: SignedIn): Promise<void> {
  for (const input of STAGE_INPUTS) {
    const response = await completeStage(user, input);
    if (response.status !== 200) throw new Error(`${input.stage}: ${response.status} ${response.text}`);
  }
}

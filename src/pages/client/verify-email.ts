/** The page a mailed verification link opens (src/pages/mailed-links.tsx): it confirms the address with the link's token. */
import { redeemMailedToken, takeMailedToken } from "./shared/mailed-link";

redeemMailedToken(
  takeMailedToken(),
  "/api/auth/verify-email",
  {},
  { done: "Your email address is confirmed.", notDone: "Not confirmed: " },
);

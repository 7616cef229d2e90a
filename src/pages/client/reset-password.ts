/** The page a mailed password-reset link opens (src/pages/mailed-links.tsx): a new password, sent with the link's token. */
import { byId, onSubmit } from "./shared/dom";
import { redeemMailedToken, takeMailedToken } from "./shared/mailed-link";

const token = takeMailedToken();

onSubmit(byId<HTMLFormElement>("reset"), async (fields: { password: string }) => {
  const changed = await redeemMailedToken(token, "/api/auth/password/reset", fields, {
    done: "Your password is changed, and you are signed out everywhere.",
    notDone: "Not changed: ",
  });
  byId("next").hidden = !changed;
});

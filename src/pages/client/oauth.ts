/**
 * The OAuth provider's pages (src/pages/oauth.tsx). The same-site hop navigates to its own
 * authorization request from this origin, so the SameSite=Strict session cookie rides along; the
 * consent form sends its single-use ticket once (a second click would only meet a used ticket).
 */
const hop = document.getElementById("continue");
if (hop instanceof HTMLAnchorElement) location.replace(hop.href);

const consent = document.getElementById("consent");
consent?.addEventListener("submit", () => {
  // After the submission has taken the clicked button's value: disabling first would drop it.
  setTimeout(() => {
    for (const button of consent.querySelectorAll("button")) button.disabled = true;
  });
});

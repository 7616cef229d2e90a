import { chromium, type Browser } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`), or CHROMIUM_PATH. The one place that knows where it is. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
}

/** Headless Chromium without a sandbox (CI containers lack its privileges) and off the network otherwise. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

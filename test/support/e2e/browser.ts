import { type Browser, chromium } from "playwright-core";

/**
 * Real Chromium for the page tests, with nothing to install by hand. By default the browser comes from
 * npm: `@sparticuz/chromium` ships a Chromium build inside the package (brotli-compressed, unpacked to
 * the temp folder on first use, about 6 s, then reused), so `npm ci && npm test` is enough on a fresh
 * Debian machine. `CHROMIUM_PATH` points the tests at another build instead, for example Debian's
 * `/usr/bin/chromium`.
 */
async function chromiumExecutable(): Promise<string> {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  const { default: packaged } = await import("@sparticuz/chromium");
  return packaged.executablePath();
}

/** Headless Chromium kept off the network: this machine's network is closed, and tests talk to loopback only. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: await chromiumExecutable(),
    // The sandbox needs privileges CI containers lack; the other flags stop Chromium's own background traffic.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

import { type Browser, chromium } from 'playwright-core'

// Debian's chromium; the flags keep it off the (closed) network and out of a sandbox it cannot have as root.
const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * Debian's headless Chromium (`CHROMIUM_PATH`, else /usr/bin/chromium) through playwright-core,
 * which gives it a fresh, empty profile of its own (a new --user-data-dir).
 *
 * @example
 * const browser = await launchChromium()
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: chromiumFlags,
  })
}

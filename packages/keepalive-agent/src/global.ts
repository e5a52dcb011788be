import http from 'node:http'
import https from 'node:https'
import { getGlobalDispatcher, setGlobalDispatcher } from 'undici'
import type { HttpResources } from './resources.js'

// Where undici 7 (version 2) and Node.js's own fetch (version 1) look up the global dispatcher.
const dispatcherSymbols = [Symbol.for('undici.globalDispatcher.1'), Symbol.for('undici.globalDispatcher.2')]

interface Saved {
  installed: HttpResources
  httpAgent: http.Agent
  httpsAgent: https.Agent
  dispatchers: unknown[]
}

let saved: Saved | undefined

/**
 * Makes the resources the process-wide defaults: `http.globalAgent`, `https.globalAgent` and
 * undici's global dispatcher (used by Node's `fetch` without a `dispatcher`), for code you do not
 * construct yourself. Returns a function that puts the previous defaults back.
 *
 * @example
 * const restore = installGlobal(createHttpResources({ maxSockets: 256 }))
 * await fetch('https://example.com') // on the shared pool
 * restore()
 */
export const installGlobal = (resources: HttpResources): (() => boolean) => {
  if (!saved) {
    // Reading the getter first makes sure the symbols exist (undici creates a default on import).
    getGlobalDispatcher()
    saved = {
      installed: resources,
      httpAgent: http.globalAgent,
      httpsAgent: https.globalAgent,
      dispatchers: dispatcherSymbols.map((symbol) => (globalThis as Record<symbol, unknown>)[symbol]),
    }
  }
  saved.installed = resources
  http.globalAgent = resources.httpAgent
  https.globalAgent = resources.httpsAgent
  setGlobalDispatcher(resources.dispatcher)
  return uninstallGlobal
}

/**
 * Puts back the global agents and dispatcher that were in place before `installGlobal`. Returns
 * whether anything was installed.
 *
 * @example
 * afterAll(() => uninstallGlobal())
 */
export const uninstallGlobal = (): boolean => {
  if (!saved) return false
  http.globalAgent = saved.httpAgent
  https.globalAgent = saved.httpsAgent
  dispatcherSymbols.forEach((symbol, index) => {
    ;(globalThis as Record<symbol, unknown>)[symbol] = saved!.dispatchers[index]
  })
  saved = undefined
  return true
}

/** Uninstalls when these resources are the installed ones (they are being closed). */
export const uninstallGlobalIfInstalled = (resources: HttpResources): void => {
  if (saved?.installed === resources) uninstallGlobal()
}

/**
 * The resources installed as process-wide defaults, if any.
 *
 * @example
 * if (installedGlobal()) console.log('fetch without a dispatcher uses the shared pool')
 */
export const installedGlobal = (): HttpResources | undefined => saved?.installed

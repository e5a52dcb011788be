/**
 * Node's own modules as their CommonJS objects, loaded on first use. An ESM `import … from
 * 'node:fs'` builds a module namespace that reads every export, getters included (`fs.promises`
 * and its streams, crypto's `webcrypto`, net's `BlockList`), loading modules no code here uses;
 * and crypto is needed only for fingerprints and markers, not by every importer of core.
 */
export const fs = () => process.getBuiltinModule('node:fs')
export const crypto = () => process.getBuiltinModule('node:crypto')
export const net = () => process.getBuiltinModule('node:net')
export const os = () => process.getBuiltinModule('node:os')
export const path = () => process.getBuiltinModule('node:path')
export const diagnosticsChannel = () => process.getBuiltinModule('node:diagnostics_channel')

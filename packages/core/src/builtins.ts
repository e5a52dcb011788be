/**
 * Node's own modules as their CommonJS objects. An ESM `import … from 'node:fs'` builds a module
 * namespace that reads every export, getters included (`fs.promises` and its streams, crypto's
 * `webcrypto`, net's `BlockList`), which loads modules no code here uses: together about 2 ms of
 * every cold start that imports core without a bundler.
 */
export const fs = process.getBuiltinModule('node:fs')
export const crypto = process.getBuiltinModule('node:crypto')
export const net = process.getBuiltinModule('node:net')

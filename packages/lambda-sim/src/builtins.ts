/**
 * Node's modules that lambda-sim loads on first use, not at import. A test that imports the
 * package for `fakeContext` would otherwise load http, net, crypto, child_process, worker_threads,
 * os and module (about 110 M instructions, 45 ms of CPU on a slow machine, in every test file), and
 * an ESM import of `node:fs` builds its whole namespace, `fs.promises` and its streams included.
 */
export const fs = () => process.getBuiltinModule('node:fs')
export const crypto = () => process.getBuiltinModule('node:crypto')
export const net = () => process.getBuiltinModule('node:net')
export const http = () => process.getBuiltinModule('node:http')
export const childProcess = () => process.getBuiltinModule('node:child_process')
export const workerThreads = () => process.getBuiltinModule('node:worker_threads')
export const os = () => process.getBuiltinModule('node:os')
export const nodeModule = () => process.getBuiltinModule('node:module')

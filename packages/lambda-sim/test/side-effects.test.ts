import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { expect, test } from '@jest/globals'

// The package says `sideEffects: false`: importing it, even for fakeContext alone, must leave the
// process as it was. Checked in a fresh process on the built package, as a user imports it.
test('importing lambda-sim installs no signal or exit handlers', () => {
  const entry = path.resolve('packages/lambda-sim/dist/index.js')
  const script = `
    const before = { SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM'), exit: process.listenerCount('exit') }
    const { fakeContext } = await import(${JSON.stringify(entry)})
    fakeContext()
    const after = { SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM'), exit: process.listenerCount('exit') }
    console.log(JSON.stringify({ before, after }))`
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  const { before, after } = JSON.parse(output)
  expect(after).toEqual(before)
  expect([after.SIGINT, after.SIGTERM]).toEqual([0, 0])
})

test('exitOnSignals installs the handlers, once', () => {
  const entry = path.resolve('packages/lambda-sim/dist/index.js')
  const script = `
    const { exitOnSignals } = await import(${JSON.stringify(entry)})
    exitOnSignals()
    exitOnSignals()
    console.log(JSON.stringify([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]))`
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  expect(JSON.parse(output)).toEqual([1, 1])
})

// A test file that imports lambda-sim for fakeContext must not pay for the simulator's servers,
// processes and threads: those Node modules load when a feature first needs them.
test('importing lambda-sim loads none of the Node modules its simulator uses', () => {
  const entry = path.resolve('packages/lambda-sim/dist/index.js')
  const heavy = ['http', 'net', 'crypto', 'child_process', 'worker_threads', 'os', 'module']
  const script = `
    const loadedBefore = new Set(process.moduleLoadList)
    await import(${JSON.stringify(entry)})
    const loaded = process.moduleLoadList.filter((m) => !loadedBefore.has(m) && m.startsWith('NativeModule '))
    console.log(JSON.stringify(loaded.map((m) => m.slice('NativeModule '.length))))`
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  const loaded: string[] = JSON.parse(output)
  expect(loaded.filter((name) => heavy.includes(name))).toEqual([])
  // The modules still load on first use: fakeContext's request id comes from node:crypto.
  const used = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { fakeContext } = await import(${JSON.stringify(entry)})
       const { awsRequestId } = fakeContext()
       console.log(JSON.stringify({ awsRequestId, crypto: process.moduleLoadList.includes('NativeModule crypto') }))`,
    ],
    { encoding: 'utf8' },
  )
  expect(JSON.parse(used)).toEqual({ awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/), crypto: true })
})

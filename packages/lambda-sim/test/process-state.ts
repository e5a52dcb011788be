import { readFile } from 'node:fs/promises'

const stateNow = async (pid: number): Promise<string> => {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!
}

/**
 * A process's state letter from /proc (`T` stopped, `R` running, `S` sleeping). SIGSTOP takes
 * effect when the kernel next schedules the process, which on a loaded machine can be after the
 * sender reads /proc: a state that is not yet `T` is read again, for up to 2 s.
 */
export const processState = async (pid: number): Promise<string> => {
  const until = Date.now() + 2_000
  let state = await stateNow(pid)
  while (state !== 'T' && Date.now() < until) {
    await new Promise((resolve) => setImmediate(resolve))
    state = await stateNow(pid)
  }
  return state
}

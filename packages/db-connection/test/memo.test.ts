import { describe, expect, test } from '@jest/globals'
import { changesSession } from '../src/engines/mysql/classify.js'
import { rememberTest } from '../src/memo.js'

describe('rememberTest: the session-state test of a statement, remembered per text', () => {
  test('answers as the test does, asking it once per text, within a bounded memory', () => {
    const asked: string[] = []
    const remembered = rememberTest((text) => {
      asked.push(text)
      return text.startsWith('SET')
    }, 2)
    expect([remembered('SET @x = 1'), remembered('SELECT 1'), remembered('SET @x = 1')]).toEqual([
      true,
      false,
      true,
    ])
    expect(asked).toEqual(['SET @x = 1', 'SELECT 1'])
    // A third text fills it: it starts over, so the first is asked again.
    remembered('SELECT 2')
    remembered('SET @x = 1')
    expect(asked).toEqual(['SET @x = 1', 'SELECT 1', 'SELECT 2', 'SET @x = 1'])
  })

  test('a long text is tested every time, never kept (a bulk INSERT must not stay in memory)', () => {
    const asked: number[] = []
    const remembered = rememberTest(
      (text) => {
        asked.push(text.length)
        return false
      },
      256,
      1_024,
    )
    const bulk = `INSERT INTO t VALUES ${'(1),'.repeat(1_000)}(1)`
    remembered(bulk)
    remembered(bulk)
    expect(asked).toEqual([bulk.length, bulk.length])
  })

  test("the engines' test gives the same answer the second time", () => {
    for (const sql of ['SELECT GET_LOCK("a", 1)', 'SELECT 1 AS one', 'SET NAMES utf8mb4']) {
      expect(changesSession(sql)).toBe(changesSession(sql))
    }
    expect([changesSession('SELECT GET_LOCK("a", 1)'), changesSession('SELECT 1 AS one')]).toEqual([
      true,
      false,
    ])
  })
})

// The import figures of `pnpm bench` (bench/imports.mjs) as a goal and a RESULTS.md section.

const importBudgetMs = 5

/** Over its driver alone; an entry with no driver, over the Node builtins it loads (Node's, not ours). */
const judged = (row) => (row.drivers.length > 0 ? row.extraMs : row.ownCodeMs)

export const importGoals = (imports) => {
  if (!imports) return []
  const over = imports.rows.filter((row) => judged(row) > importBudgetMs)
  const worst = imports.rows.reduce((a, b) => (judged(b) > judged(a) ? b : a))
  return [
    {
      goal: `importing each package unbundled adds at most ${importBudgetMs} ms over importing its driver alone (entries with no driver: over the Node builtins they load) (issue 15)`,
      met: over.length === 0,
      measured:
        `median of ${imports.processes} fresh processes; the most: ${worst.specifier} +${judged(worst).toFixed(1)} ms` +
        (over.length > 0 ? `; over: ${over.map((row) => row.specifier).join(', ')}` : ''),
    },
  ]
}

const signedMs = (value) => `${value >= 0 ? '+' : ''}${value.toFixed(1)} ms`

const row = (r) => [
  `\`${r.specifier}\``,
  r.drivers.length > 0 ? r.drivers.map((d) => `\`${d}\``).join(', ') : 'an empty module',
  `${r.driverMs.toFixed(1)} ms`,
  `${r.packageMs.toFixed(1)} ms`,
  signedMs(r.extraMs),
  `${r.ratio.toFixed(2)}×`,
  `${r.builtinsMs.toFixed(1)} ms`,
  signedMs(r.ownCodeMs),
]

/** Lines of the section; `table` is report.mjs's Markdown table. */
export const renderImports = (imports, table) => {
  if (!imports) return []
  return [
    '## Import cost at cold start',
    '',
    'What a function deployed without a bundler pays to load each entry: the time to `import` it in a',
    'fresh Node process (`performance.now()` around the `import`, so Node’s own start is left out),',
    'against importing only the third-party modules that entry loads (its driver), median of',
    `${imports.processes} processes each, run alternately. An entry that loads no third-party module is`,
    'compared with importing an empty module file (what the first file import costs any process).',
    'The last two columns leave out the Node builtins the entry loads (`node:net`, `node:crypto`, …):',
    'the driver and those builtins imported first, then the entry, which then costs only our code.',
    "Each package's dist/ is one esbuild bundle per entry (scripts/bundle.mjs).",
    '',
    table(
      [
        'entry',
        'its driver (the third-party modules it loads)',
        'driver alone',
        'entry',
        'extra',
        'ratio',
        'driver + builtins',
        'our code',
      ],
      imports.rows.map(row),
    ),
    '',
    "Minified size of each package's own code (all its entries, every bare import left out):",
    '',
    table(
      ['package', 'minified'],
      imports.sizes.map((s) => [`\`${s.name}\``, `${(s.minifiedBytes / 1024).toFixed(1)} KB`]),
    ),
    '',
  ]
}

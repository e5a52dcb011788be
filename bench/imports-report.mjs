// The import figures of `pnpm bench` (bench/imports.mjs) as a goal and a RESULTS.md section.

const importBudgetMs = 5

/** Over its driver alone; an entry with no driver, over the Node builtins it loads (Node's, not ours). */
const judged = (row) => (row.drivers.length > 0 ? row.cpu.extraMs : row.cpu.ownCodeMs)

export const importGoals = (imports) => {
  if (!imports) return []
  const over = imports.rows.filter((row) => judged(row) > importBudgetMs)
  const worst = imports.rows.reduce((a, b) => (judged(b) > judged(a) ? b : a))
  return [
    {
      goal: `importing each package unbundled adds at most ${importBudgetMs} ms over importing its driver alone (entries with no driver: over the Node builtins they load) (issue 15)`,
      met: over.length === 0,
      measured:
        `CPU time, median of ${imports.processes} fresh processes; the most: ${worst.specifier} +${judged(worst).toFixed(1)} ms` +
        (over.length > 0 ? `; over: ${over.map((row) => row.specifier).join(', ')}` : ''),
    },
  ]
}

const signedMs = (value) => `${value >= 0 ? '+' : ''}${value.toFixed(1)} ms`

const row = ({ specifier, drivers, cpu, wall }) => [
  `\`${specifier}\``,
  drivers.length > 0 ? drivers.map((d) => `\`${d}\``).join(', ') : 'an empty module',
  `${cpu.driverMs.toFixed(1)} ms`,
  `${cpu.packageMs.toFixed(1)} ms`,
  signedMs(cpu.extraMs),
  `${cpu.ratio.toFixed(2)}×`,
  signedMs(cpu.ownCodeMs),
  signedMs(wall.extraMs),
]

/** Lines of the section; `table` is report.mjs's Markdown table. */
export const renderImports = (imports, table) => {
  if (!imports) return []
  return [
    '## Import cost at cold start',
    '',
    'What a function deployed without a bundler pays to load each entry: the time to `import` it in a',
    'fresh Node process (measured around the `import`, so Node’s own start is left out), against',
    'importing only the third-party modules that entry loads (its driver), median of',
    `${imports.processes} processes each, run alternately. An entry that loads no third-party module is`,
    'compared with importing an empty module file (what the first file import costs any process).',
    'CPU time (user + system) of the importing process, which other work on a shared machine hardly',
    'moves; the wall-clock difference is in the last column. "Our code" leaves out the Node builtins',
    'the entry loads (`node:net`, `node:crypto`, …): the driver and those builtins imported, then the entry.',
    "Each package's dist/ is one esbuild bundle per entry (scripts/bundle.mjs).",
    '',
    table(
      [
        'entry',
        'its driver (the third-party modules it loads)',
        'driver alone CPU',
        'entry CPU',
        'extra CPU',
        'ratio',
        'our code CPU',
        'extra wall',
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

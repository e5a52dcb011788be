// The import figures of `pnpm bench` (bench/imports.mjs) as a goal and a RESULTS.md section.

const importBudgetMs = 5

/**
 * What the entry adds, in ms: from the instruction counts where valgrind ran (the same from run to
 * run), else the CPU medians (over its driver alone; with no driver, over the Node builtins it loads).
 */
const judged = (row) =>
  row.instructions?.extraMs ?? (row.drivers.length > 0 ? row.cpu.extraMs : row.cpu.ownCodeMs)

export const importGoals = (imports) => {
  if (!imports) return []
  const over = imports.rows.filter((row) => judged(row) > importBudgetMs)
  const worst = imports.rows.reduce((a, b) => (judged(b) > judged(a) ? b : a))
  return [
    {
      goal: `importing each package unbundled adds at most ${importBudgetMs} ms over importing its driver alone (entries with no driver: over the Node builtins they load) (issue 15)`,
      met: over.length === 0,
      measured:
        `${worst.instructions ? 'extra instructions as a share of the baseline import, at its median CPU time' : 'CPU time'}, ${imports.processes} fresh processes; the most: ${worst.specifier} +${judged(worst).toFixed(1)} ms` +
        (over.length > 0 ? `; over: ${over.map((row) => row.specifier).join(', ')}` : ''),
    },
  ]
}

const signedMs = (value) => `${value >= 0 ? '+' : ''}${value.toFixed(1)} ms`

const row = ({ specifier, drivers, middy = [], cpu, wall, instructions }) => [
  `\`${specifier}\``,
  [...middy, ...drivers].map((d) => `\`${d}\``).join(', ') || 'nothing',
  `${cpu.driverMs.toFixed(1)} ms`,
  `${cpu.packageMs.toFixed(1)} ms`,
  signedMs(cpu.extraMs),
  `${cpu.ratio.toFixed(2)}×`,
  signedMs(cpu.ownCodeMs),
  signedMs(wall.extraMs),
  instructions
    ? `+${(instructions.extra / 1e6).toFixed(1)} M (+${(instructions.share * 100).toFixed(1)}%)`
    : '–',
  instructions ? signedMs(instructions.extraMs) : '–',
]

const heading = '## Import cost at cold start'

/**
 * Lines of the section; `table` is report.mjs's Markdown table. `alone` describes a run that
 * measured only these figures (`pnpm bench:imports`): { date, node, loadBefore, loadAfter }.
 */
export const renderImports = (imports, table, alone) => {
  if (!imports) return []
  const [goal] = importGoals(imports)
  return [
    heading,
    '',
    ...(alone
      ? [
          `Measured on their own by \`pnpm bench:imports\` on ${alone.date}, Node ${alone.node}, load average`,
          `${alone.loadBefore.join(', ')} at the start and ${alone.loadAfter.join(', ')} at the end; every other section comes from another run.`,
          '',
        ]
      : []),
    'What a function deployed without a bundler pays to load each entry: the time a fresh Node process',
    'spends importing a handler module (a file, as Lambda loads it) that imports `@middy/core` and the',
    'entry, against a handler module that imports `@middy/core` and only the third-party modules the',
    `entry loads (its driver); median of ${imports.processes} processes each, run alternately, measured around the`,
    '`import`, so Node’s own start is left out. A handler file on both sides because the first ESM file',
    'and the first package resolution of a process cost several ms that every such function pays, used',
    'or not (stops before this one imported bare specifiers from `-e` and charged those to our entries).',
    'CPU time (user + system) of the importing process, which other work on a shared machine hardly',
    'moves; the wall-clock difference is in the last column. "Our code" leaves out the Node builtins',
    'the entry loads (`node:net`, `node:crypto`, …): the driver and those builtins imported, then the entry.',
    'The last two columns count instructions instead (valgrind, V8 made deterministic, no optimising compiles',
    'and no garbage collection, whose timing moved with unrelated code: a heap threshold crossed by a few KB',
    'more code put a whole mark-compact into one entry once): the extra',
    'instructions of the entry’s handler over the baseline’s, as a share of what the baseline’s import',
    'executes, and that share of the baseline’s median CPU time. The count is the same from run to run',
    'to within 0.01%, where the CPU medians of one entry swing by 2× between runs on a shared machine;',
    'the goal is judged on it.',
    "Each package's dist/ is one esbuild bundle per entry (scripts/bundle.mjs).",
    '',
    table(
      [
        'entry',
        'the baseline handler imports',
        'driver alone CPU',
        'entry CPU',
        'extra CPU',
        'ratio',
        'our code CPU',
        'extra wall',
        'extra instructions',
        'extra, from instructions',
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
    `Goal: ${goal.goal}: ${goal.met ? 'met' : '**not met**'} (${goal.measured}).`,
    '',
  ]
}

/** RESULTS.md with its import section replaced by `lines`, or added before the run's timings. */
export const spliceImports = (markdown, lines) => {
  const section = `${lines.join('\n')}\n`
  const start = markdown.indexOf(`${heading}\n`)
  if (start >= 0) {
    const next = markdown.indexOf('\n## ', start + heading.length)
    return markdown.slice(0, start) + section + (next >= 0 ? markdown.slice(next + 1) : '')
  }
  const timings = markdown.indexOf('## Timings of this run')
  if (timings < 0) return `${markdown.trimEnd()}\n\n${section}`
  return markdown.slice(0, timings) + section + markdown.slice(timings)
}

/**
 * Puts the import goals' rows of the goals table in place of the last run's, for an imports-only
 * run: the rest of the table stays as the full run left it. Biome aligns the table afterwards.
 */
export const spliceImportGoals = (markdown, goals, when) =>
  goals.reduce((text, g) => {
    const row = text.split('\n').findIndex((line) => line.startsWith(`| ${g.goal} `))
    if (row < 0) return text
    const lines = text.split('\n')
    lines[row] =
      `| ${g.goal} | ${g.met ? 'yes' : '**no**'} | ${g.measured} (imports measured alone, ${when}) |`
    return lines.join('\n')
  }, markdown)

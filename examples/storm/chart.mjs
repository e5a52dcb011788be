// A self-contained SVG chart of the storms (no dependencies): server connections over time for
// each handler against max_connections, failed invocations over time, and each run's phases.

const palette = {
  unmanaged: '#D55E00',
  'serverless-mysql': '#0072B2',
  'db-connection': '#009E73',
  'unmanaged-pg': '#D55E00',
  'serverless-postgres': '#0072B2',
  'db-connection-pg': '#009E73',
  'db-connection-data-api': '#009E73',
}

/** What the connections panel counts, per engine. */
const subtitles = {
  mysql: 'Threads_connected on a private MariaDB',
  postgres: "client backends in a private PostgreSQL's pg_stat_activity",
  'data-api': "connections to the MariaDB behind the local Data API endpoint, the service's pool left out",
}
const fallbackColors = ['#CC79A7', '#E69F00', '#56B4E9', '#000000']

const escapeXml = (text) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  )

const fixed = (value) => (Math.round(value * 10) / 10).toString()

/** A step line: each sample's value holds until the next one. */
const stepPath = (points) => {
  if (points.length === 0) return ''
  let d = `M${fixed(points[0][0])},${fixed(points[0][1])}`
  for (let i = 1; i < points.length; i++) {
    d += ` H${fixed(points[i][0])} V${fixed(points[i][1])}`
  }
  return d
}

/** Round tick spacing giving about `target` ticks over `span`. */
const tickStep = (span, target) => {
  const raw = span / target
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const steps = [1, 2, 5, 10].map((m) => m * magnitude)
  return steps.find((step) => step >= raw) ?? steps[steps.length - 1]
}

/**
 * Renders the storms as an SVG document.
 *
 * @param {object[]} summaries `runStorm` results, one per handler
 * @param {{ title?: string, engine?: 'mysql' | 'postgres' | 'data-api' }} [options]
 * @returns {string} the SVG document
 */
export const renderStormChart = (summaries, { title, engine = 'mysql' } = {}) => {
  const width = 960
  const left = 64
  const right = 220
  const plotWidth = width - left - right
  const top = 58
  const connHeight = 260
  const gap = 56
  const failTop = top + connHeight + gap
  const failHeight = 120
  const stripTop = failTop + failHeight + 46
  const stripRow = 20
  const height = stripTop + summaries.length * stripRow + 40

  const color = (name, index) => palette[name] ?? fallbackColors[index % fallbackColors.length]
  const maxConnections = Math.max(...summaries.map((s) => s.maxConnections))
  const maxT = Math.max(1, ...summaries.flatMap((s) => [s.durationMs, ...s.samples.map((p) => p.t)])) / 1000
  const xStep = tickStep(maxT, 10)
  const xMax = Math.ceil(maxT / xStep) * xStep
  const yMax = Math.max(maxConnections + 2, ...summaries.map((s) => s.peakConnections + 1))
  const yStep = tickStep(yMax, 6)
  const failMaxRaw = Math.max(1, ...summaries.map((s) => s.failures))
  const fStep = tickStep(failMaxRaw, 4)
  const failMax = Math.ceil(failMaxRaw / fStep) * fStep

  const x = (seconds) => left + (seconds / xMax) * plotWidth
  const yConn = (value) => top + connHeight - (value / yMax) * connHeight
  const yFail = (value) => failTop + failHeight - (value / failMax) * failHeight

  const out = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(title ?? 'Server connections during the storm')}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="26" font-size="16" font-weight="bold">${escapeXml(title ?? 'Server connections during the storm')}</text>`,
    `<text x="${left}" y="44" fill="#555">${escapeXml(subtitles[engine])} (the sampler's own connection excluded), sampled every 100 ms; time since each run began</text>`,
  )

  // Grids and axes.
  const xTicks = []
  for (let t = 0; t <= xMax + 1e-9; t += xStep) xTicks.push(t)
  for (const [panelTop, panelHeight] of [
    [top, connHeight],
    [failTop, failHeight],
  ]) {
    for (const t of xTicks) {
      out.push(
        `<line x1="${fixed(x(t))}" y1="${panelTop}" x2="${fixed(x(t))}" y2="${panelTop + panelHeight}" stroke="#eee"/>`,
      )
    }
    out.push(
      `<rect x="${left}" y="${panelTop}" width="${plotWidth}" height="${panelHeight}" fill="none" stroke="#999"/>`,
    )
    for (const t of xTicks) {
      out.push(
        `<text x="${fixed(x(t))}" y="${panelTop + panelHeight + 16}" text-anchor="middle" fill="#333">${fixed(t)}</text>`,
      )
    }
  }
  out.push(
    `<text x="${left + plotWidth / 2}" y="${top + connHeight + 34}" text-anchor="middle" fill="#333">seconds</text>`,
  )
  for (let v = 0; v <= yMax; v += yStep) {
    out.push(
      `<line x1="${left}" y1="${fixed(yConn(v))}" x2="${left + plotWidth}" y2="${fixed(yConn(v))}" stroke="#eee"/>`,
      `<text x="${left - 8}" y="${fixed(yConn(v) + 4)}" text-anchor="end" fill="#333">${v}</text>`,
    )
  }
  out.push(
    `<text transform="translate(18 ${top + connHeight / 2}) rotate(-90)" text-anchor="middle" fill="#333">server connections</text>`,
    `<line x1="${left}" y1="${fixed(yConn(maxConnections))}" x2="${left + plotWidth}" y2="${fixed(yConn(maxConnections))}" stroke="#000" stroke-dasharray="6 4"/>`,
    `<text x="${left + 6}" y="${fixed(yConn(maxConnections) - 6)}" fill="#000">max_connections ${maxConnections}</text>`,
  )
  for (let v = 0; v <= failMax; v += fStep) {
    out.push(
      `<line x1="${left}" y1="${fixed(yFail(v))}" x2="${left + plotWidth}" y2="${fixed(yFail(v))}" stroke="#eee"/>`,
      `<text x="${left - 8}" y="${fixed(yFail(v) + 4)}" text-anchor="end" fill="#333">${v}</text>`,
    )
  }
  out.push(
    `<text x="${left}" y="${failTop - 10}" font-weight="bold" fill="#333">failed invocations so far</text>`,
  )

  // Series.
  summaries.forEach((summary, index) => {
    const stroke = color(summary.handler, index)
    const points = summary.samples
      .filter((p) => typeof p.connections === 'number')
      .map((p) => [x(p.t / 1000), yConn(p.connections)])
    out.push(
      `<path d="${stepPath(points)}" fill="none" stroke="${stroke}" stroke-width="2" stroke-linejoin="round" opacity="0.9"><title>${escapeXml(summary.handler)}</title></path>`,
    )
    const failures = [[x(0), yFail(0)]]
    summary.failureTimes.forEach((t, i) => {
      failures.push([x(t / 1000), yFail(i + 1)])
    })
    failures.push([x(summary.durationMs / 1000), yFail(summary.failureTimes.length)])
    out.push(
      `<path d="${stepPath(failures)}" fill="none" stroke="${stroke}" stroke-width="2" opacity="0.9"><title>${escapeXml(summary.handler)}: ${summary.failures} failed</title></path>`,
    )
  })

  // Legend with each run's headline figures.
  const legendX = left + plotWidth + 20
  out.push(`<text x="${legendX}" y="${top + 4}" font-weight="bold">handler</text>`)
  summaries.forEach((summary, index) => {
    const y0 = top + 26 + index * 76
    const stroke = color(summary.handler, index)
    out.push(
      `<line x1="${legendX}" y1="${y0 - 4}" x2="${legendX + 22}" y2="${y0 - 4}" stroke="${stroke}" stroke-width="3"/>`,
      `<text x="${legendX + 30}" y="${y0}" font-weight="bold">${escapeXml(summary.handler)}</text>`,
      `<text x="${legendX + 30}" y="${y0 + 16}" fill="#333">${summary.failures} of ${summary.invocations} failed</text>`,
      `<text x="${legendX + 30}" y="${y0 + 32}" fill="#333">peak ${summary.peakConnections}, ${summary.queriesPerInvocation.toFixed(2)} queries/inv</text>`,
      `<text x="${legendX + 30}" y="${y0 + 48}" fill="#333">p99 warm ${Math.round(summary.warmP99)} ms</text>`,
    )
  })

  // Each run's phases: bursts in the handler's colour, the pause (with the reaping) in grey.
  out.push(`<text x="${left}" y="${stripTop - 10}" font-weight="bold" fill="#333">phases of each run</text>`)
  summaries.forEach((summary, index) => {
    const y0 = stripTop + index * stripRow
    const stroke = color(summary.handler, index)
    for (const phase of summary.phases) {
      const x0 = x(phase.startMs / 1000)
      const w = Math.max(1, x(phase.endMs / 1000) - x0)
      const burst = phase.invocations > 0
      out.push(
        `<rect x="${fixed(x0)}" y="${y0}" width="${fixed(w)}" height="${stripRow - 6}" fill="${burst ? stroke : '#bbb'}" opacity="${burst ? 0.35 : 0.5}"><title>${escapeXml(phase.name)}</title></rect>`,
      )
      // About 5.5 px per character at 10 px: cut the label to the segment.
      const fits = Math.floor((w - 8) / 5.5)
      if (fits >= 4) {
        const label = phase.name.length <= fits ? phase.name : `${phase.name.slice(0, fits - 1)}…`
        out.push(
          `<text x="${fixed(x0 + 4)}" y="${y0 + stripRow - 10}" font-size="10" fill="#222">${escapeXml(label)}</text>`,
        )
      }
    }
    out.push(
      `<text x="${left + plotWidth + 8}" y="${y0 + stripRow - 10}" font-size="11" fill="${stroke}">${escapeXml(summary.handler)}</text>`,
    )
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

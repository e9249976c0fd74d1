/**
 * The economy's charts with uPlot (served from node_modules): volume and jobs hired over time, and
 * each agent's earnings. Each chart is redrawn with new data in place; its container says how many
 * points it shows (`data-points`), and its caption the latest totals.
 */
import uPlot from '/assets/vendor/uPlot.esm.js'

const charts = new Map()

function widthOf(element) {
  return Math.max(240, Math.min(element.clientWidth || 480, 720))
}

/** A step line of `values` (numbers) at `times` (unix seconds); created once, then given new data. */
export function drawTimeline(element, { label, times, values, color }) {
  const data = [times, values]
  element.dataset.points = String(times.length)
  const existing = charts.get(element)
  if (existing) {
    existing.setData(data)
    return
  }
  const chart = new uPlot(
    {
      width: widthOf(element),
      height: 180,
      series: [
        {},
        { label, stroke: color, width: 2, fill: `${color}22`, paths: uPlot.paths.stepped({ align: 1 }) },
      ],
      axes: [{}, { size: 60 }],
      scales: { x: { time: true } },
      legend: { show: true },
    },
    data,
    element,
  )
  charts.set(element, chart)
}

/** Bars of `values` per `names` (agents' earnings). */
export function drawBars(element, { label, names, values, color }) {
  const xs = names.map((_, i) => i)
  const data = [xs, values]
  element.dataset.points = String(names.length)
  const existing = charts.get(element)
  if (existing && existing.agoraNames.join() === names.join()) {
    existing.setData(data)
    return
  }
  existing?.destroy()
  const chart = new uPlot(
    {
      width: widthOf(element),
      height: 200,
      series: [
        {},
        { label, stroke: color, fill: `${color}99`, paths: uPlot.paths.bars({ size: [0.6, 64] }) },
      ],
      scales: { x: { time: false, range: [-0.5, Math.max(names.length - 0.5, 0.5)] } },
      axes: [{ splits: () => xs, values: (_, splits) => splits.map((i) => names[i] ?? '') }, { size: 60 }],
      legend: { show: false },
    },
    data,
    element,
  )
  chart.agoraNames = names
  charts.set(element, chart)
}

/** Keeps the charts as wide as their column when the window changes. */
window.addEventListener('resize', () => {
  for (const [element, chart] of charts) chart.setSize({ width: widthOf(element), height: chart.height })
})

// Inline SVG charts for the report, generated here so the page needs no script and no network:
// it opens offline, prints, and still shows the data in ten years. Every line carries its name and
// point count (data-series, data-points) so a test can check the drawing against the series.

export interface Line {
  name: string;
  color: string;
  /** [seconds, value]; a null value breaks the line (no data that second). */
  points: [number, number | null][];
  /** Draw as a staircase: replica counts hold until they change. */
  step?: boolean;
  dashed?: boolean;
}

export interface Chart {
  id: string;
  title: string;
  unit: string;
  /** Shared x axis: every chart of a report spans 0..xMax seconds, so they line up. */
  xMax: number;
  lines: Line[];
  /** Vertical markers, e.g. stage starts. */
  marks: { t: number; label: string }[];
}

const chartWidth = 960;
const chartHeight = 230;
const chartMargin = { left: 60, right: 16, top: 34, bottom: 30 };
const plotWidth = chartWidth - chartMargin.left - chartMargin.right;
const plotHeight = chartHeight - chartMargin.top - chartMargin.bottom;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The smallest 1, 2, 2.5 or 5 × 10^n at or above `value`: axis tops that read well. */
export function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= value) as number) * magnitude;
}

const fmt = (v: number) => String(Math.round(v * 100) / 100);

/** SVG path commands for one line, staircase or straight, broken at nulls. */
export function pathData(line: Line, x: (t: number) => number, y: (v: number) => number): string {
  const commands: string[] = [];
  let previous: number | null = null;
  for (const [t, value] of line.points) {
    if (value === null) {
      previous = null;
      continue;
    }
    if (previous === null) commands.push(`M${fmt(x(t))},${fmt(y(value))}`);
    else {
      if (line.step) commands.push(`L${fmt(x(t))},${fmt(y(previous))}`);
      commands.push(`L${fmt(x(t))},${fmt(y(value))}`);
    }
    previous = value;
  }
  return commands.join(" ");
}

export function lineChart(chart: Chart): string {
  const values = chart.lines.flatMap((line) => line.points.map((p) => p[1]).filter((v): v is number => v !== null));
  const yMax = niceCeil(Math.max(0, ...values));
  const xMax = Math.max(1, chart.xMax);
  const x = (t: number) => chartMargin.left + (Math.min(Math.max(t, 0), xMax) / xMax) * plotWidth;
  const y = (v: number) => chartMargin.top + plotHeight - (v / yMax) * plotHeight;
  const xStep = niceCeil(xMax / 10);

  const grid: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    grid.push(
      `<line class="grid" x1="${chartMargin.left}" x2="${chartWidth - chartMargin.right}" y1="${fmt(y(v))}" y2="${fmt(y(v))}"/>`,
      `<text class="tick" x="${chartMargin.left - 6}" y="${fmt(y(v) + 4)}" text-anchor="end">${fmt(v)}</text>`,
    );
  }
  for (let t = 0; t <= xMax; t += xStep) {
    grid.push(`<text class="tick" x="${fmt(x(t))}" y="${chartHeight - 10}" text-anchor="middle">${fmt(t)}s</text>`);
  }
  const marks = chart.marks.map(
    (mark) =>
      `<line class="mark" x1="${fmt(x(mark.t))}" x2="${fmt(x(mark.t))}" y1="${chartMargin.top}" y2="${chartMargin.top + plotHeight}"/>` +
      `<text class="mark-label" x="${fmt(x(mark.t) + 3)}" y="${chartMargin.top + 10}">${escapeXml(mark.label)}</text>`,
  );
  const paths = chart.lines.map((line) => {
    const count = line.points.filter((p) => p[1] !== null).length;
    const dash = line.dashed ? ` stroke-dasharray="6 4"` : "";
    return (
      `<path class="line" data-series="${escapeXml(line.name)}" data-points="${count}" fill="none" ` +
      `stroke="${line.color}" stroke-width="2"${dash} d="${pathData(line, x, y)}"/>`
    );
  });
  const legend = chart.lines.map(
    (line, i) =>
      `<g transform="translate(${chartMargin.left + 340 + i * 140},12)"><rect width="12" height="12" fill="${line.color}"/>` +
      `<text x="17" y="10">${escapeXml(line.name)}</text></g>`,
  );
  const empty =
    chart.lines.length === 0
      ? [`<text class="tick" x="${chartMargin.left + plotWidth / 2}" y="${chartMargin.top + plotHeight / 2}" text-anchor="middle">none</text>`]
      : [];
  return [
    `<svg id="${chart.id}" class="chart" viewBox="0 0 ${chartWidth} ${chartHeight}" role="img" aria-label="${escapeXml(chart.title)}">`,
    `<text class="title" x="${chartMargin.left}" y="20">${escapeXml(chart.title)} (${escapeXml(chart.unit)})</text>`,
    ...grid,
    ...marks,
    ...paths,
    ...empty,
    ...legend,
    `</svg>`,
  ].join("\n");
}

/** Horizontal bars, one per label, longest first. */
export function barChart(id: string, title: string, bars: { label: string; value: number }[]): string {
  const sorted = [...bars].sort((a, b) => b.value - a.value);
  const rowH = 24;
  const labelW = 300;
  const height = 34 + sorted.length * rowH;
  const max = Math.max(1, ...sorted.map((b) => b.value));
  const rows = sorted.map((bar, i) => {
    const top = 30 + i * rowH;
    const w = (bar.value / max) * (chartWidth - labelW - 90);
    return (
      `<text x="${labelW - 8}" y="${top + 15}" text-anchor="end">${escapeXml(bar.label)}</text>` +
      `<rect class="bar" data-label="${escapeXml(bar.label)}" data-value="${bar.value}" x="${labelW}" y="${top + 3}" width="${fmt(w)}" height="${rowH - 8}"/>` +
      `<text x="${fmt(labelW + w + 6)}" y="${top + 15}">${bar.value}</text>`
    );
  });
  return [
    `<svg id="${id}" class="chart" viewBox="0 0 ${chartWidth} ${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<text class="title" x="${chartMargin.left}" y="20">${escapeXml(title)}</text>`,
    ...rows,
    `</svg>`,
  ].join("\n");
}

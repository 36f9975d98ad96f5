/** A small hand-written SVG line chart: a figure per size (ms per tenant, tenants per second) against the number of tenants (log scale). */
export interface Series {
  readonly label: string;
  readonly colour: string;
  readonly points: readonly { readonly tenants: number; readonly value: number }[];
}

const W = 640;
const H = 360;
const M = { left: 64, right: 170, top: 40, bottom: 50 };

function esc(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

export function scalingChart(title: string, series: readonly Series[], note: string, yLabel: string): string {
  const all = series.flatMap((s) => s.points);
  const xs = [...new Set(all.map((p) => p.tenants))].sort((a, b) => a - b);
  const minX = Math.log10(xs[0] ?? 1);
  const maxX = Math.log10(xs.at(-1) ?? 10);
  const maxY = Math.max(1, ...all.map((p) => p.value)) * 1.15;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (t: number) => M.left + (maxX === minX ? plotW / 2 : ((Math.log10(t) - minX) / (maxX - minX)) * plotW);
  const y = (v: number) => M.top + plotH - (v / maxY) * plotH;
  const step = niceStep(maxY / 5);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${M.left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (let v = 0; v <= maxY; v += step) {
    out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${formatNumber(v)}</text>`);
  }
  for (const t of xs) {
    out.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${M.top + plotH}" y2="${M.top + plotH + 5}" stroke="#555"/>`);
    out.push(`<text x="${x(t).toFixed(1)}" y="${M.top + plotH + 20}" text-anchor="middle" fill="#555">${t.toLocaleString('en-US')}</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#555"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + plotH}" stroke="#555"/>`);
  out.push(`<text x="${M.left + plotW / 2}" y="${H - 12}" text-anchor="middle">tenants (log scale)</text>`);
  out.push(`<text transform="translate(16 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a.tenants - b.tenants);
    out.push(
      `<polyline fill="none" stroke="${s.colour}" stroke-width="2.5" points="${pts.map((p) => `${x(p.tenants).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const p of pts) {
      out.push(`<circle cx="${x(p.tenants).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="4" fill="${s.colour}"/>`);
      out.push(
        `<text x="${(x(p.tenants) + 6).toFixed(1)}" y="${(y(p.value) - 6).toFixed(1)}" fill="${s.colour}" font-size="11">${formatNumber(p.value)}</text>`,
      );
    }
    const ly = M.top + 10 + i * 22;
    out.push(`<line x1="${W - M.right + 16}" x2="${W - M.right + 40}" y1="${ly}" y2="${ly}" stroke="${s.colour}" stroke-width="2.5"/>`);
    out.push(`<text x="${W - M.right + 46}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  const noteLines = note.split('\n');
  noteLines.forEach((line, i) =>
    out.push(
      `<text x="${W - M.right + 16}" y="${M.top + 10 + series.length * 22 + 14 + i * 15}" fill="#666" font-size="10">${esc(line)}</text>`,
    ),
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const n = raw / power;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * power;
}

function formatNumber(v: number): string {
  return v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2);
}

/**
 * Two small charts drawn as inline SVG (no canvas, no inline styles: colours come from the
 * stylesheet's series classes s0..s7, so they work under the Content-Security-Policy).
 */
const W = 640;
const H = 240;
const PAD = { left: 44, right: 12, top: 12, bottom: 28 };

function niceMax(v: number): number {
  if (v <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(v));
  return Math.ceil(v / p) * p;
}

function YAxis({ max }: { max: number }) {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(max * f));
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  return (
    <g>
      {ticks.map((t) => (
        <g key={t}>
          <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
          <text x={PAD.left - 6} y={y(t) + 4} text-anchor="end">
            {t}
          </text>
        </g>
      ))}
      <line class="axis" x1={PAD.left} x2={W - PAD.right} y1={H - PAD.bottom} y2={H - PAD.bottom} />
    </g>
  );
}

/** One bar per label (e.g. activated devices per month). */
export function BarChart({ data, label }: { data: readonly { readonly label: string; readonly value: number }[]; label: string }) {
  const max = niceMax(Math.max(0, ...data.map((d) => d.value)));
  const slot = (W - PAD.left - PAD.right) / Math.max(1, data.length);
  const bar = Math.min(48, slot * 0.7);
  const h = (v: number) => (H - PAD.top - PAD.bottom) * (v / max);
  const every = Math.ceil(data.length / 12);
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
      <YAxis max={max} />
      {data.map((d, i) => {
        const x = PAD.left + slot * i + (slot - bar) / 2;
        return (
          <g key={d.label}>
            <rect class="s0" x={x} y={H - PAD.bottom - h(d.value)} width={bar} height={h(d.value)} rx={2}>
              <title>{`${d.label}: ${d.value}`}</title>
            </rect>
            {i % every === 0 && (
              <text x={x + bar / 2} y={H - PAD.bottom + 16} text-anchor="middle">
                {d.label}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

export interface Series {
  readonly name: string;
  readonly values: readonly number[];
}

/** Lines over time (e.g. devices per migration state); `times` in milliseconds. */
export function LineChart({ times, series, label }: { times: readonly number[]; series: readonly Series[]; label: string }) {
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const t0 = times[0] ?? 0;
  const span = Math.max(1, (times[times.length - 1] ?? 0) - t0);
  const x = (t: number) => PAD.left + (W - PAD.left - PAD.right) * ((t - t0) / span);
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  const seconds = (t: number) => `${Math.round((t - t0) / 1000)} s`;
  return (
    <>
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
        <YAxis max={max} />
        {times.length > 0 && (
          <>
            <text x={PAD.left} y={H - PAD.bottom + 16} text-anchor="start">
              {seconds(t0)}
            </text>
            <text x={W - PAD.right} y={H - PAD.bottom + 16} text-anchor="end">
              {seconds(t0 + span)}
            </text>
          </>
        )}
        {series.map((s, i) => (
          <polyline key={s.name} class={`s${i % 8}`} points={s.values.map((v, j) => `${x(times[j] ?? t0)},${y(v)}`).join(' ')} />
        ))}
      </svg>
      <div class="legend">
        {series.map((s, i) => (
          <span key={s.name} class={`s${i % 8}`}>
            {s.name} ({s.values[s.values.length - 1] ?? 0})
          </span>
        ))}
      </div>
    </>
  );
}

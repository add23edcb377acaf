import type { RefObject } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

/**
 * Two small charts drawn as inline SVG (no canvas, no inline styles: colours come from the
 * stylesheet's series classes s0..s7, so they work under the Content-Security-Policy). The
 * drawing is as wide as its frame, in CSS pixels, so text stays the same size on any screen.
 */
const H = 220;
const PAD = { left: 40, right: 12, top: 12, bottom: 28 };

/** The frame's width, followed as it changes. */
function useWidth(): [RefObject<HTMLDivElement | null>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(640);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setWidth(Math.max(200, Math.floor(el.clientWidth))));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

/** An axis top and a whole step: at most 5 gridlines, at round numbers. */
function scale(v: number): { max: number; step: number } {
  const raw = Math.max(1, v) / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p);
  return { max: Math.max(step, Math.ceil(v / step) * step), step };
}

function YAxis({ max, step, W }: { max: number; step: number; W: number }) {
  const ticks: number[] = [];
  for (let t = 0; t <= max; t += step) ticks.push(t);
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
  const [ref, W] = useWidth();
  const { max, step } = scale(Math.max(0, ...data.map((d) => d.value)));
  const slot = (W - PAD.left - PAD.right) / Math.max(1, data.length);
  const bar = Math.min(40, slot * 0.7);
  const h = (v: number) => (H - PAD.top - PAD.bottom) * (v / max);
  // Labels at least 64 px apart.
  const every = Math.max(1, Math.ceil(64 / slot));
  return (
    <div ref={ref} class="chart-frame">
      <svg class="chart" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
        <YAxis max={max} step={step} W={W} />
        {data.map((d, i) => {
          const x = PAD.left + slot * i + (slot - bar) / 2;
          return (
            <g key={d.label}>
              <rect class="s0" x={x} y={H - PAD.bottom - h(d.value)} width={bar} height={h(d.value)} rx={2}>
                <title>{`${d.label}: ${d.value}`}</title>
              </rect>
              {(data.length - 1 - i) % every === 0 && (
                <text x={x + bar / 2} y={H - PAD.bottom + 16} text-anchor="middle">
                  {d.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}

export interface Series {
  readonly name: string;
  readonly values: readonly number[];
  /** Its colour, s0..s7 (default: its position). */
  readonly tone?: number;
}

/** Lines over time (e.g. devices per migration state); `times` in milliseconds. */
export function LineChart({ times, series, label }: { times: readonly number[]; series: readonly Series[]; label: string }) {
  const [ref, W] = useWidth();
  const { max, step } = scale(Math.max(0, ...series.flatMap((s) => s.values)));
  const t0 = times[0] ?? 0;
  const span = Math.max(1, (times[times.length - 1] ?? 0) - t0);
  const x = (t: number) => PAD.left + (W - PAD.left - PAD.right) * ((t - t0) / span);
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  const seconds = (t: number) => `${Math.round((t - t0) / 1000)} s`;
  return (
    <div ref={ref} class="chart-frame">
      <svg class="chart" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
        <YAxis max={max} step={step} W={W} />
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
          <polyline key={s.name} class={`s${(s.tone ?? i) % 8}`} points={s.values.map((v, j) => `${x(times[j] ?? t0)},${y(v)}`).join(' ')} />
        ))}
      </svg>
      <div class="legend">
        {series.map((s, i) => (
          <span key={s.name} class={`s${(s.tone ?? i) % 8}`}>
            {s.name} ({s.values[s.values.length - 1] ?? 0})
          </span>
        ))}
      </div>
    </div>
  );
}

/**
 * Stacked bars over time, one slot per step (e.g. joins and refusals per minute): `times` in
 * milliseconds, each series a value per time; the first and last times, and one every
 * `tickEvery` slots, labelled with `timeLabel`.
 */
export function StackedBarChart({ times, series, label, timeLabel, tickEvery }: { times: readonly number[]; series: readonly Series[]; label: string; timeLabel: (t: number) => string; tickEvery: number }) {
  const [ref, W] = useWidth();
  const totals = times.map((_, i) => series.reduce((n, s) => n + (s.values[i] ?? 0), 0));
  const { max, step } = scale(Math.max(0, ...totals));
  const slot = (W - PAD.left - PAD.right) / Math.max(1, times.length);
  const bar = Math.max(1, Math.min(24, slot * 0.8));
  const h = (v: number) => (H - PAD.top - PAD.bottom) * (v / max);
  // Time labels at least 56 px apart, on whole multiples of `tickEvery` slots from the newest.
  const every = Math.max(tickEvery, Math.ceil(56 / slot / tickEvery) * tickEvery);
  return (
    <div ref={ref} class="chart-frame">
      <svg class="chart" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
        <YAxis max={max} step={step} W={W} />
        {times.map((t, i) => {
          const x = PAD.left + slot * i + (slot - bar) / 2;
          let base = H - PAD.bottom;
          const tip = `${timeLabel(t)}: ${series.map((s) => `${s.values[i] ?? 0} ${s.name}`).join(', ')}`;
          return (
            <g key={t}>
              {series.map((s, k) => {
                const v = s.values[i] ?? 0;
                if (v === 0) return null;
                base -= h(v);
                return (
                  <rect key={s.name} class={`s${(s.tone ?? k) % 8}`} x={x} y={base} width={bar} height={h(v)}>
                    <title>{tip}</title>
                  </rect>
                );
              })}
              {(times.length - 1 - i) % every === 0 && (
                // The newest label ends at its bar's right edge, inside the drawing.
                <text x={i === times.length - 1 ? x + bar : x + bar / 2} y={H - PAD.bottom + 16} text-anchor={i === times.length - 1 ? 'end' : 'middle'}>
                  {timeLabel(t)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <div class="legend">
        {series.map((s, i) => (
          <span key={s.name} class={`s${(s.tone ?? i) % 8}`}>
            {s.name}: {s.values.reduce((n, v) => n + v, 0)}
          </span>
        ))}
      </div>
    </div>
  );
}

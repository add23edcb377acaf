import type { ComponentChildren } from 'preact';

export interface Column<T> {
  readonly label: string;
  readonly cell: (row: T) => ComponentChildren;
  /** A class for the cells (`mono`, `wrap`). */
  readonly class?: string;
}

/**
 * A table in its frame: one row per item, a line saying so when there is none. On a phone each
 * row becomes a card, each value under its column's name (`data-label`), unless `compact`.
 */
export function DataTable<T>(props: { columns: readonly Column<T>[]; rows: readonly T[]; rowKey: (row: T) => string; empty: string; compact?: boolean }) {
  return (
    <div class={props.compact ? 'table-wrap compact' : 'table-wrap'}>
      <table>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.label}>{c.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 && (
            <tr>
              <td class="empty" colSpan={props.columns.length}>
                {props.empty}
              </td>
            </tr>
          )}
          {props.rows.map((row) => (
            <tr key={props.rowKey(row)}>
              {props.columns.map((c) => (
                <td key={c.label} data-label={c.label} class={c.class}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

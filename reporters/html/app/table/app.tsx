/**
 * The table page: sortable columns (click a header; sizes sort by bytes), a search box filtering
 * rows, 100 rows per page (so 100k rows stay fast), a thread column when threads are split.
 * Sort, direction, search and page live in the URL fragment.
 */
import { useMemo, useState } from "preact/hooks";
import { TablePageData, TableRow, tableRows } from "../../data/common.ts";
import { formatBytes, formatCount } from "../common/format.ts";
import { MemoryPlot } from "../common/memory_plot.tsx";
import { allocatorBadge, Navbar, Notes } from "../common/navbar.tsx";
import { StatsPanel } from "../common/stats_panel.tsx";
import { useHashState } from "../common/use_hash_state.ts";

/** Rows per page, as memray's DataTables setting. */
export const PAGE_ROWS = 100;

type Column = "thread" | "size" | "allocator" | "count" | "location";

const COLUMNS: { key: Column; label: string; numeric: boolean }[] = [
  { key: "thread", label: "Thread ID", numeric: false },
  { key: "size", label: "Size", numeric: true },
  { key: "allocator", label: "Allocator", numeric: false },
  { key: "count", label: "Allocations", numeric: true },
  { key: "location", label: "Location", numeric: false },
];

function compare(column: Column): (a: TableRow, b: TableRow) => number {
  switch (column) {
    case "size":
      return (a, b) => a.size_bytes - b.size_bytes;
    case "count":
      return (a, b) => a.n_allocations - b.n_allocations;
    default:
      return (a, b) => (a[column] < b[column] ? -1 : a[column] > b[column] ? 1 : 0);
  }
}

function field(row: TableRow, column: Column): string {
  if (column === "size") return formatBytes(row.size_bytes);
  if (column === "count") return formatCount(row.n_allocations);
  return row[column];
}

/** The table report app. */
export function TableApp({ data }: { data: TablePageData }) {
  const rows = useMemo(() => tableRows(data), [data]);
  // Lowercased text of each row, computed once, for the search.
  const haystack = useMemo(
    () => rows.map((r) => `${r.thread}\n${r.allocator}\n${r.location}`.toLowerCase()),
    [rows],
  );
  const columns = COLUMNS.filter((c) => c.key !== "thread" || !data.merge_threads);
  const [sort, setSort] = useHashState("sort", "size");
  const [dir, setDir] = useHashState("dir", "desc");
  const [query, setQuery] = useHashState("q", "");
  const [page_text, setPage] = useHashState("page", "1");
  const [stats_open, setStatsOpen] = useState(false);
  const sort_column = (columns.find((c) => c.key === sort) ?? columns[1]).key;

  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    const index: number[] = [];
    for (let i = 0; i < rows.length; i++) if (q === "" || haystack[i].includes(q)) index.push(i);
    const cmp = compare(sort_column);
    const sign = dir === "asc" ? 1 : -1;
    // Ties keep the data's order (biggest first), whatever the direction.
    index.sort((a, b) => sign * cmp(rows[a], rows[b]) || a - b);
    return index;
  }, [rows, haystack, query, sort_column, dir]);

  const pages = Math.max(1, Math.ceil(shown.length / PAGE_ROWS));
  const page = Math.min(Math.max(parseInt(page_text, 10) || 1, 1), pages);
  const first = (page - 1) * PAGE_ROWS;
  const visible = shown.slice(first, first + PAGE_ROWS);

  const clickHeader = (column: Column, numeric: boolean) => {
    if (column === sort_column) setDir(dir === "asc" ? "desc" : "asc");
    else {
      setSort(column);
      setDir(numeric ? "desc" : "asc");
    }
    setPage("1");
  };

  return (
    <div class="page table-page">
      <Navbar
        title={data.title}
        badges={[allocatorBadge(data.stats.python_allocator)]}
        onStats={() => setStatsOpen(true)}
      >
        <label class="search">
          <span class="visually-hidden">Search</span>
          <input
            type="search"
            placeholder="Search"
            aria-label="Search rows"
            data-testid="table-search"
            value={query}
            onInput={(e) => {
              setQuery((e.currentTarget as HTMLInputElement).value);
              setPage("1");
            }}
          />
        </label>
      </Navbar>
      <Notes notes={data.notes} />
      <MemoryPlot memory={data.memory} start_ms={data.stats.start_ms} height={80} />
      <main>
        <table class="report-table" data-testid="report-table">
          <thead>
            <tr>
              {columns.map((c) => (
                <th
                  key={c.key}
                  scope="col"
                  class={c.numeric ? "num" : ""}
                  aria-sort={c.key === sort_column
                    ? (dir === "asc" ? "ascending" : "descending")
                    : "none"}
                >
                  <button
                    type="button"
                    class="sort-button"
                    data-testid={`sort-${c.key}`}
                    onClick={() => clickHeader(c.key, c.numeric)}
                  >
                    {c.label}
                    <span class="sort-mark" aria-hidden="true">
                      {c.key === sort_column ? (dir === "asc" ? " ▲" : " ▼") : ""}
                    </span>
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {visible.map((i) => (
              <tr key={i} data-testid="table-row">
                {columns.map((c) => (
                  <td
                    key={c.key}
                    class={c.numeric ? "num" : ""}
                    data-col={c.key}
                    title={c.key === "size" ? `${rows[i].size_bytes} bytes` : undefined}
                  >
                    {field(rows[i], c.key)}
                  </td>
                ))}
              </tr>
            ))}
            {visible.length === 0 && (
              <tr>
                <td colSpan={columns.length} class="empty" data-testid="table-empty">
                  {rows.length === 0 ? "No allocations to show." : "No rows match the search."}
                </td>
              </tr>
            )}
          </tbody>
        </table>
        <div class="pager" data-testid="pager">
          <span data-testid="table-info">
            {shown.length === 0
              ? "Showing 0 entries"
              : `Showing ${formatCount(first + 1)} to ${formatCount(first + visible.length)} of ${
                formatCount(shown.length)
              } entries`}
            {shown.length !== rows.length && ` (filtered from ${formatCount(rows.length)})`}
          </span>
          <button
            type="button"
            class="btn btn-small"
            data-testid="page-prev"
            disabled={page <= 1}
            onClick={() => setPage(String(page - 1))}
          >
            Previous
          </button>
          <span data-testid="page-number">Page {page} of {pages}</span>
          <button
            type="button"
            class="btn btn-small"
            data-testid="page-next"
            disabled={page >= pages}
            onClick={() => setPage(String(page + 1))}
          >
            Next
          </button>
        </div>
      </main>
      {stats_open && <StatsPanel stats={data.stats} onClose={() => setStatsOpen(false)} />}
    </div>
  );
}

/**
 * Fitting Markdown into a size budget (a pull-request comment, a step summary): sections of
 * rows are added in order while they fit, and what does not fit is counted for one closing
 * line. Pure: (data) => lines.
 */

/** One row of a section, and what it shows: changes or problems, for the count of what is cut. */
export interface Row {
  readonly lines: readonly string[];
  readonly changes: number;
  readonly notes: number;
}

/** A collapsible section: opened and closed around its rows; left out whole if no row fits. */
export interface Section {
  readonly open: readonly string[];
  readonly rows: readonly Row[];
  readonly close: readonly string[];
}

export interface Fitted {
  readonly lines: string[];
  /** Changes and problems whose rows did not fit. */
  readonly cut: { changes: number; notes: number };
}

/** Characters the lines take when joined by newlines, with the newline after the last. */
export function sizeOf(lines: readonly string[]): number {
  return lines.reduce((n, line) => n + line.length + 1, 0);
}

/**
 * The sections in order, row by row, as long as the rows and their section's closing lines fit
 * in `room` characters; the first row that does not fit ends the fitting (later, smaller rows
 * are not squeezed in: the comment reads top down and stops at one place).
 */
export function fitSections(sections: readonly Section[], room: number): Fitted {
  const lines: string[] = [];
  const cut = { changes: 0, notes: 0 };
  let used = 0;
  let full = false;
  for (const section of sections) {
    let opened = false;
    for (const row of section.rows) {
      const needed =
        sizeOf(row.lines) + sizeOf(section.close) + (opened ? 0 : sizeOf(section.open));
      if (!full && used + needed <= room) {
        if (!opened) {
          lines.push(...section.open);
          used += sizeOf(section.open);
          opened = true;
        }
        lines.push(...row.lines);
        used += sizeOf(row.lines);
      } else {
        full = true;
        cut.changes += row.changes;
        cut.notes += row.notes;
      }
    }
    if (opened) {
      lines.push(...section.close);
      used += sizeOf(section.close);
    }
  }
  return { lines, cut };
}

"""Keep markdown result tables (RESULTS.md): one row per key, replaced when the key is scored again.

Any scoring tool (ASR, separation, TTS) calls `update_results_table(path, header, row)`:
the table is found by its exact header line, so one file can hold tables of several
kinds; other content in the file is left as it is.
"""
import fcntl
import os


def _escape(cell):
    return str(cell).replace("|", "\\|").replace("\n", " ")


def table_line(cells):
    """'| a | b |' from cells ('|' inside a cell escaped)."""
    return "| " + " | ".join(_escape(c) for c in cells) + " |"


def _updated(lines, header, row, title):
    head = table_line(header)
    if head not in lines:
        table = ([f"## {title}", ""] if title else []) + [head, "|" + "---|" * len(header), table_line(row)]
        return lines + ([""] if lines else []) + table
    start = lines.index(head) + 2  # first row, after the header and the |---| line
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    key = table_line(row[:1])  # '| key |': the start of that key's row
    for index in range(start, end):
        if lines[index].startswith(key):
            return lines[:index] + [table_line(row)] + lines[index + 1:]
    return lines[:end] + [table_line(row)] + lines[end:]


def update_results_table(path, header, row, title=None):
    """Put `row` (its first cell is the key) into the table with `header` in markdown file `path`.

    A row with the same key is replaced in place, else the row goes at the table's end. A
    missing file or table is created (after a `## title` line when `title` is given). The
    file is rewritten atomically, under a lock on its directory so that concurrent scoring
    jobs do not lose each other's rows.
    """
    if len(row) != len(header):
        raise ValueError(f"row has {len(row)} cells, header {len(header)}: {row} vs {header}")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    lock = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lines = []
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(_updated(lines, header, row, title)) + "\n")
        os.replace(tmp, path)
    finally:
        os.close(lock)  # releases the lock

"""Python and pandas values as SQLite stores them: pure functions, no database state.

`to_rows(data)` turns a DataFrame, a dict or a list of dicts into `(columns, rows)` ready
for `executemany`. Values keep what they are: numbers stay numbers (numpy scalars
included), dates and times become ISO 8601 text, every kind of missing value (None, NaN,
NaT, pd.NA) becomes NULL, nested dicts and lists become JSON text, and a DataFrame's
named index is kept as columns. A value that cannot be stored raises `UnsupportedValue`,
naming the column and the type. DataFrames are converted column by column with numpy,
which keeps a million-row load cheap next to the insert itself.
"""

from __future__ import annotations

from .columns import column_values
from .records import column_name, frame_rows, records_rows, to_rows
from .scalars import INT64_MAX, INT64_MIN, UnsupportedValue, sql_value

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "UnsupportedValue",
    "column_name",
    "column_values",
    "frame_rows",
    "records_rows",
    "sql_value",
    "to_rows",
]

"""`Record`: one result row, readable by position, by column name and as an attribute."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload


class Record(Sequence[Any]):
    """A result row: `row[0]`, `row["name"]`, `row.name` and `row._mapping` all work.

    The column-name map is shared by every row of one result.
    """

    __slots__ = ("_keys", "_row")

    def __init__(self, row: Sequence[Any], keys: Mapping[str, int]) -> None:
        self._row = row
        self._keys = keys

    @overload
    def __getitem__(self, key: int | str) -> Any: ...

    @overload
    def __getitem__(self, key: slice) -> Sequence[Any]: ...

    def __getitem__(self, key: int | str | slice) -> Any:
        if isinstance(key, str):
            try:
                return self._row[self._keys[key]]
            except KeyError:
                raise KeyError(
                    f"The row has no column {key!r}; its columns are {', '.join(self._keys)}."
                ) from None
        return self._row[key]

    def __getattr__(self, name: str) -> Any:
        try:
            return self._row[self._keys[name]]
        except KeyError:
            raise AttributeError(
                f"The row has no column {name!r}; its columns are {', '.join(self._keys)}."
            ) from None

    def __len__(self) -> int:
        return len(self._row)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._row)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record):
            return tuple(self._row) == tuple(other._row)
        if isinstance(other, tuple | list):
            return tuple(self._row) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._row))

    @property
    def _mapping(self) -> dict[str, Any]:
        return {key: self._row[index] for key, index in self._keys.items()}

    def keys(self) -> list[str]:
        return list(self._keys)

    def values(self) -> list[Any]:
        return list(self._row)

    def items(self) -> list[tuple[str, Any]]:
        return list(self._mapping.items())

    def __repr__(self) -> str:
        inner = ", ".join(f"{key}={self._row[index]!r}" for key, index in self._keys.items())
        return f"Record({inner})"


def keymap(names: Sequence[str]) -> dict[str, int]:
    """Column name -> position; with duplicate names the first one wins."""
    keys: dict[str, int] = {}
    for index, name in enumerate(names):
        keys.setdefault(name, index)
    return keys

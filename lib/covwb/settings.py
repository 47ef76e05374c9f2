"""One frozen settings object per page: call arguments, cache key, settings document, URL and Python code.

A page's settings are one frozen dataclass deriving from :class:`Settings`. The same object is

(a) the argument of the one library call that computes the page's results (``explore(settings, data)``);
(b) the cache key: :meth:`Settings.fingerprint` is a BLAKE2b digest of the class and of the canonical JSON of
    the values, stable across processes and machines (never Python's salted ``hash``);
(c) the exported settings document: :meth:`Settings.to_dict` (JSON types only), read back by
    :meth:`Settings.from_dict`;
(d) the URL's query parameters: :meth:`Settings.to_query` / :meth:`Settings.from_query`; reading a link never
    raises: a value that is malformed, out of range or not one of the choices is replaced by the default and a
    sentence says so;
(e) valid Python: ``repr`` (and the line-wrapped :meth:`Settings.to_python`) evaluates back to an equal object
    once the classes named by :meth:`Settings.python_imports` are imported.

Field types are limited to what all five forms can carry: ``str``, ``int``, ``float`` (finite), ``bool``,
``tuple[T, ...]``, ``tuple[T1, T2]``, ``X | None``, and nested :class:`Settings` (or a union of them, told apart
by their ``tag``; the data sources of :mod:`covwb.sources` are such a union). Every value is coerced to its
declared type when the object is built (lists become tuples, numpy scalars plain numbers, ``1`` becomes
``1.0`` for a float), so two ways of writing the same settings are equal, hash alike and have one fingerprint.
Constraints are declared with :func:`setting` (choices, bounds, number of items, a label for messages);
rules that involve several fields go in :meth:`Settings.check`. Violations raise
:class:`~covwb.errors.ParameterError` with a sentence that names the setting.

URL encoding: ``str`` fields are written as they are, every other value as compact JSON (``band=[8.0,35.0]``);
a nested settings object is written as its tag under its field's name plus its own fields under
``<field>.<name>`` (``source=builtin&source.name=pottery``). Fields equal to their default (or to a given
``base``) are left out, so links stay short and keys other than the page's own (a job id, say) are left alone.
A tagged nested object (a member of a union: the data source) is written and read whole; an untagged one (the
explorer's ``epochs``) field by field, against the nested object of ``base`` or of the defaults
(``epochs.tmax=1.2``).

How a page adopts this
----------------------
1. Declare the settings next to the page's library call, every field with a default::

       @dataclass(frozen=True)
       class FooSettings(Settings):
           source: DataSource = BuiltinSource("pottery")
           estimator: str = setting("oas", label="Covariance estimator", choices=ESTIMATORS)
           seed: int = setting(0, label="Seed", low=0)

2. Write the one public call ``foo(settings, data=None, *, memo=None, progress=None) -> FooResult`` whose
   result has ``settings``, ``warnings`` and ``tables()`` (see :mod:`covwb.export.analysis`). Override
   :meth:`Settings.resolve` when some defaults depend on the data (the first 30 columns, say).
3. On the page: ``linked = ui.settings_from_url(FooSettings)``, widgets whose defaults come from
   ``ui.settings_for_data(linked, source, data)``, one ``FooSettings(...)`` built from the widgets,
   ``ui.settings_to_url(settings, defaults=...)``, ``result = foo(settings, data, memo=ui.memo(public))``, and
   ``ui.export_analysis(settings, result, call=foo, ...)``.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Demo(Settings):
...     estimator: str = setting("oas", choices=("sample", "oas"))
...     band: tuple[float, float] = (8.0, 35.0)
>>> demo = Demo(band=[8, 30])
>>> demo
Demo(estimator='oas', band=(8.0, 30.0))
>>> demo.to_query()
{'band': '[8.0,30.0]'}
>>> Demo.from_query({"band": "[8.0,30.0]", "estimator": "lda"})[0] == demo
True
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Self, TypeVar

import numpy as np

from covwb.errors import ParameterError

__all__ = ["Settings", "setting"]

S = TypeVar("S", bound="Settings")

_MAX_QUERY_CHARS = 20_000
_SHOWN_CHARS = 60
_WRAP = 100


def setting(
    default: Any = dataclasses.MISSING,
    *,
    label: str | None = None,
    choices: Iterable[Any] | None = None,
    low: float | None = None,
    high: float | None = None,
    min_items: int | None = None,
    max_items: int | None = None,
) -> Any:
    """A settings field with its default and constraints, for use in a :class:`Settings` dataclass.

    Parameters
    ----------
    default : object
        Default value (immutable: a number, text, tuple, None or a settings object); leave it out for a
        required field.
    label : str or None
        Name of the setting in messages, as the page shows it (``"Window start (s)"``); the field name if None.
    choices : iterable or None
        Allowed values (the keys of a mapping); for a tuple, allowed items.
    low, high : float or None
        Inclusive bounds of a number, or of every number of a tuple.
    min_items, max_items : int or None
        Bounds on the length of a tuple.

    Returns
    -------
    dataclasses.Field
        To assign to the annotated class attribute.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Window(Settings):
    ...     tmin: float = setting(0.5, label="Window start (s)", low=-5.0, high=30.0)
    >>> Window(tmin=99)
    Traceback (most recent call last):
    ...
    covwb.errors.ParameterError: Window start (s) must be between -5 and 30, got 99.
    """
    metadata = {
        "label": label,
        "choices": None if choices is None else tuple(choices),
        "low": low,
        "high": high,
        "min_items": min_items,
        "max_items": max_items,
    }
    return dataclasses.field(default=default, metadata=metadata)


class Settings:
    """Base of a page's frozen settings dataclass (see the module notes).

    Subclasses are ``@dataclass(frozen=True)`` classes; they must not define ``__post_init__`` (override
    :meth:`check` instead). A subclass that is one member of a union (like the data sources) sets the class
    attribute ``tag``, which names it in documents and links.

    Examples
    --------
    >>> from covwb.eeg import EpochSettings
    >>> settings = EpochSettings(tmax=3)  # coerced to its declared type
    >>> settings
    EpochSettings(classes=None, tmin=0.5, tmax=3.0, band=(8.0, 35.0), channels=None)
    >>> settings.to_query(), EpochSettings.from_dict(settings.to_dict()) == settings, len(settings.fingerprint())
    ({'tmax': '3.0'}, True, 64)
    """

    tag: ClassVar[str] = ""

    def __post_init__(self) -> None:
        cls = type(self)
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _checked(cls, f, getattr(self, f.name)))
        self.check()

    def check(self) -> None:
        """Rules that involve several fields; raise :class:`~covwb.errors.ParameterError` when one is broken."""

    def resolve(self, data: Any) -> tuple[Self, tuple[str, ...]]:
        """These settings made explicit for ``data``, with a sentence for every value that had to change.

        The base implementation returns the settings unchanged. A page whose defaults depend on the data
        (columns, channels, classes) overrides it: automatic values (None) become explicit, values the data
        cannot take are replaced by the data's defaults, each with a note. The library call raises
        :class:`~covwb.errors.ParameterError` where this method would need a note.

        Parameters
        ----------
        data : object
            The loaded dataset the settings will be applied to.

        Returns
        -------
        settings : Settings
            Explicit settings for ``data``.
        notes : tuple of str
            One sentence per replaced value; empty when nothing had to change.
        """
        return self, ()

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed (validated like a new object)."""
        return dataclasses.replace(self, **changes)

    # ----------------------------------------------------------------- documents

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON types: tuples become lists, nested settings dicts (with ``"type"`` for tagged ones).

        Returns
        -------
        dict
            One entry per field, in declaration order.
        """
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Settings from :meth:`to_dict`'s form; strict: unknown keys and bad values raise.

        Parameters
        ----------
        data : Mapping
            Field names to values; missing fields take their defaults.

        Returns
        -------
        Settings
            An object of this class.

        Raises
        ------
        ParameterError
            A key that is not a field, a wrong ``"type"``, a missing required field or a bad value.
        """
        if not isinstance(data, Mapping):
            raise ParameterError(f"{cls.__name__} must be given as a mapping of names to values, got {_shown(data)}.")
        values = dict(data)
        tag = values.pop("type", cls.tag or None)
        if (tag or None) != (cls.tag or None):
            raise ParameterError(f"Settings of type {_shown(tag)} cannot be read as {cls.__name__}.")
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = [str(key) for key in values if key not in names]
        if unknown:
            raise ParameterError(
                f"{cls.__name__} has no setting named {', '.join(map(repr, unknown))}; its settings are {', '.join(names)}."
            )
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in values and _is_required(f)]
        if missing:
            raise ParameterError(f"{cls.__name__} needs a value for {', '.join(missing)}.")
        return cls(**values)

    def fingerprint(self) -> str:
        """Stable cache key: BLAKE2b (64 hex characters) of the class name and the canonical JSON of the values.

        Equal settings give the same fingerprint in every process; any changed value changes it.
        """
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        h = hashlib.blake2b(digest_size=32)
        h.update(f"{type(self).__module__}.{type(self).__qualname__}\0{text}".encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    # ----------------------------------------------------------------- links

    def to_query(self, base: Self | None = None) -> dict[str, str]:
        """The settings as URL query parameters (text), leaving out what equals ``base`` (or the defaults).

        Parameters
        ----------
        base : Settings or None
            Values to leave out (the data's defaults, say); the class defaults when None. A tagged nested object
            (the data source) is always written whole; an untagged one only where it differs from ``base``'s.

        Returns
        -------
        dict of str to str
            ``str`` fields as they are, others as compact JSON, nested settings under ``<field>.<name>``.
        """
        out: dict[str, str] = {}
        hints = _hints(type(self))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            reference = getattr(base, f.name) if base is not None else f.default
            if isinstance(value, Settings):
                if value.tag:
                    out[f.name] = value.tag
                    nested = value.to_query()
                else:
                    nested = value.to_query(reference if type(reference) is type(value) else None)
                out.update({f"{f.name}.{key}": text for key, text in nested.items()})
                continue
            if reference is not dataclasses.MISSING and value == reference:
                continue
            out[f.name] = value if hints[f.name] is str else _compact_json(_plain(value))
        return out

    @classmethod
    def from_query(cls, params: Mapping[str, Any], *, default: Self | None = None) -> tuple[Self, tuple[str, ...]]:
        """Settings from URL query parameters; never raises on what a link holds.

        Keys that are not this class's are ignored (they belong to something else on the page). A value that
        cannot be read, is out of range or is not a choice keeps the default, and a sentence says so; a
        tagged nested object (the data source) is taken whole or not at all, an untagged one is the default's
        with the link's changes (all of them or none).

        Parameters
        ----------
        params : Mapping
            Query parameters, e.g. ``st.query_params``; a list value counts by its last item.
        default : Settings or None
            Values for what the link does not set or sets badly; the class defaults when None.

        Returns
        -------
        settings : Settings
            The link's settings.
        notes : tuple of str
            One sentence per value that was not used.
        """
        start = default if default is not None else cls()
        hints = _hints(cls)
        values: dict[str, Any] = {}
        notes: list[str] = []
        for f in dataclasses.fields(cls):
            label = _label(f)
            members = _settings_members(hints[f.name])
            if members:
                prefix = f"{f.name}."
                sub = {key[len(prefix) :]: _last(value) for key, value in params.items() if key.startswith(prefix)}
                if f.name not in params and not sub:
                    continue
                try:
                    values[f.name] = _nested_from_query(members, _last(params.get(f.name)), sub, getattr(start, f.name))
                except ParameterError as error:
                    notes.append(f"The link's {label} was not used: {error}")
                continue
            if f.name not in params:
                continue
            try:
                value = _parse_query_value(_last(params[f.name]), hints[f.name], label)
                values[f.name] = _checked(cls, f, value)
            except ParameterError as error:
                reason = str(error).rstrip(".")
                notes.append(
                    f"The link's {label} was not used ({reason}); the page uses {_shown(getattr(start, f.name))}."
                )
        try:
            return dataclasses.replace(start, **values), tuple(notes)
        except ParameterError as error:
            notes.append(
                f"The link's settings do not fit together ({str(error).rstrip('.')}); the page uses its defaults."
            )
            return start, tuple(notes)

    # ----------------------------------------------------------------- Python

    def to_python(self, indent: int = 0) -> str:
        """Python source that rebuilds these settings, wrapped one field per line when long.

        ``eval(settings.to_python(), namespace) == settings`` where ``namespace`` holds the classes of
        :meth:`python_imports`.

        Parameters
        ----------
        indent : int
            Indentation of the first line's context, in spaces (continuation lines go 4 deeper).
        """
        name = type(self).__qualname__
        parts = [f"{f.name}={_python(getattr(self, f.name), indent + 4)}" for f in dataclasses.fields(self)]
        one_line = f"{name}({', '.join(parts)})"
        if indent + len(one_line) <= _WRAP and "\n" not in one_line:
            return one_line
        pad = " " * (indent + 4)
        return f"{name}(\n" + "".join(f"{pad}{part},\n" for part in parts) + " " * indent + ")"

    def python_imports(self) -> tuple[str, ...]:
        """The import lines that :meth:`to_python` and ``repr`` need, sorted."""
        found: set[str] = set()
        _collect_imports(self, found)
        return tuple(sorted(found))

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Field name to the label the page shows (the field name where none was given)."""
        return {f.name: _label(f) for f in dataclasses.fields(cls)}


# --------------------------------------------------------------------------- coercion and checks


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The resolved field types of a settings class (resolved once per class: one entry per class defined)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _label(f: dataclasses.Field) -> str:
    return f.metadata.get("label") or f.name


def _is_required(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _checked(cls: type, f: dataclasses.Field, value: Any) -> Any:
    """``value`` coerced to the field's type and checked against its constraints."""
    label = _label(f)
    value = _coerce(value, _hints(cls)[f.name], label)
    if value is None:
        return value
    meta = f.metadata
    items = value if isinstance(value, tuple) else (value,)
    if meta.get("choices") is not None:
        allowed = meta["choices"]
        for item in items:
            if isinstance(item, (str, int, float)) and item not in allowed:
                shown = ", ".join(map(repr, allowed))
                raise ParameterError(f"{label} must be one of {shown}, got {_shown(item)}.")
    low, high = meta.get("low"), meta.get("high")
    for item in items:
        if not isinstance(item, (int, float)) or isinstance(item, bool):
            continue
        if (low is not None and item < low) or (high is not None and item > high):
            if low is not None and high is not None:
                bounds = f"between {low:g} and {high:g}"
            else:
                bounds = f"at least {low:g}" if low is not None else f"at most {high:g}"
            raise ParameterError(f"{label} must be {bounds}, got {item:g}.")
    if isinstance(value, tuple):
        if meta.get("min_items") is not None and len(value) < meta["min_items"]:
            raise ParameterError(f"{label} needs at least {meta['min_items']} item(s), got {len(value)}.")
        if meta.get("max_items") is not None and len(value) > meta["max_items"]:
            raise ParameterError(f"{label} takes at most {meta['max_items']} item(s), got {len(value)}.")
    return value


def _settings_members(hint: Any) -> tuple[type[Settings], ...]:
    """The Settings classes a type hint admits (itself, or the members of a union)."""
    candidates = typing.get_args(hint) if _is_union(hint) else (hint,)
    return tuple(c for c in candidates if isinstance(c, type) and issubclass(c, Settings))


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _coerce(value: Any, hint: Any, label: str) -> Any:
    if _is_union(hint):
        return _coerce_union(value, typing.get_args(hint), label)
    origin = typing.get_origin(hint)
    if origin is tuple:
        return _coerce_tuple(value, typing.get_args(hint), label)
    if hint is float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ParameterError(f"{label} must be a number, got {_shown(value)}.")
        number = float(value)
        if not math.isfinite(number):
            raise ParameterError(f"{label} must be a finite number, got {_shown(value)}.")
        return number
    if hint is int:
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return int(value)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise ParameterError(f"{label} must be a whole number, got {_shown(value)}.")
        return int(value)
    if hint is bool:
        if not isinstance(value, (bool, np.bool_)):
            raise ParameterError(f"{label} must be true or false, got {_shown(value)}.")
        return bool(value)
    if hint is str:
        if not isinstance(value, str):
            raise ParameterError(f"{label} must be text, got {_shown(value)}.")
        return str(value)
    if isinstance(hint, type) and issubclass(hint, Settings):
        return _coerce_settings(value, (hint,), label)
    raise TypeError(f"Settings fields cannot have type {hint!r}; use str, int, float, bool, tuples or Settings.")


def _coerce_union(value: Any, members: tuple[Any, ...], label: str) -> Any:
    if value is None:
        if type(None) in members:
            return None
        raise ParameterError(f"{label} needs a value.")
    members = tuple(m for m in members if m is not type(None))
    settings_members = tuple(m for m in members if isinstance(m, type) and issubclass(m, Settings))
    if settings_members and (isinstance(value, Settings) or isinstance(value, Mapping)):
        return _coerce_settings(value, settings_members, label)
    exact = [m for m in members if isinstance(m, type) and type(value) is m]
    error: ParameterError | None = None
    for member in exact + [m for m in members if m not in exact]:
        try:
            return _coerce(value, member, label)
        except ParameterError as err:
            error = error or err
    assert error is not None
    raise error


def _coerce_tuple(value: Any, args: tuple[Any, ...], label: str) -> tuple[Any, ...]:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise ParameterError(f"{label} must be a list of values, got {_shown(value)}.")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_coerce(item, args[0], label) for item in value)
    if len(value) != len(args):
        raise ParameterError(f"{label} must have {len(args)} values, got {len(value)}.")
    return tuple(_coerce(item, arg, label) for item, arg in zip(value, args))


def _coerce_settings(value: Any, members: Sequence[type[Settings]], label: str) -> Settings:
    for member in members:
        if isinstance(value, member):
            return value
    if isinstance(value, Mapping):
        tag = value.get("type")
        if tag is None and len(members) == 1:
            return members[0].from_dict(value)
        for member in members:
            if member.tag and member.tag == tag:
                return member.from_dict(value)
        tags = ", ".join(repr(m.tag) for m in members)
        raise ParameterError(f"{label} must have a type among {tags}, got {_shown(tag)}.")
    raise ParameterError(f"{label} must be given as settings, got {_shown(value)}.")


# --------------------------------------------------------------------------- forms


def _plain(value: Any) -> Any:
    if isinstance(value, Settings):
        out = value.to_dict()
        return {"type": value.tag, **out} if value.tag else out
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _last(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return value[-1] if value else ""
    return value


def _parse_query_value(raw: Any, hint: Any, label: str) -> Any:
    if not isinstance(raw, str):
        raise ParameterError(f"{label} must be text in a link, got {_shown(raw)}")
    if len(raw) > _MAX_QUERY_CHARS:
        raise ParameterError(f"{label} is {len(raw)} characters long, more than a link may hold")
    if hint is str:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        raise ParameterError(
            f"{label} must be written as JSON (a number, true/false, null or a list), got {_shown(raw)}"
        ) from None


def _nested_from_query(
    members: tuple[type[Settings], ...], tag: Any, params: Mapping[str, Any], start: Any
) -> Settings:
    """One nested settings object from its tag and prefixed parameters; strict.

    A tagged object (a member of a union, such as a data source) is built from the parameters alone; an
    untagged one (such as the explorer's epoch settings) from ``start`` with the parameters' changes.
    """
    if len(members) == 1 and not tag:
        chosen = members[0]
    else:
        found = [m for m in members if m.tag and m.tag == tag]
        if not found:
            tags = ", ".join(repr(m.tag) for m in members)
            raise ParameterError(f"its type {_shown(tag)} is not one of {tags}.")
        chosen = found[0]
    hints = _hints(chosen)
    values = {}
    for f in dataclasses.fields(chosen):
        if f.name in params:
            if _settings_members(hints[f.name]):
                raise ParameterError(f"{_label(f)} cannot be nested this deep in a link.")
            values[f.name] = _parse_query_value(params[f.name], hints[f.name], _label(f))
    if not chosen.tag and type(start) is chosen:
        return dataclasses.replace(start, **values)
    missing = [_label(f) for f in dataclasses.fields(chosen) if f.name not in values and _is_required(f)]
    if missing:
        raise ParameterError(f"it lacks {', '.join(missing)}.")
    return chosen(**values)


def _python(value: Any, indent: int) -> str:
    if isinstance(value, Settings):
        return value.to_python(indent)
    if isinstance(value, tuple):
        items = [_python(item, indent + 4) for item in value]
        one_line = "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if indent + len(one_line) <= _WRAP and "\n" not in one_line:
            return one_line
        pad = " " * (indent + 4)
        return "(\n" + "".join(f"{pad}{item},\n" for item in items) + " " * indent + ")"
    return repr(value)


def _collect_imports(value: Any, found: set[str]) -> None:
    if isinstance(value, Settings):
        cls = type(value)
        found.add(f"from {cls.__module__} import {cls.__qualname__}")
        for f in dataclasses.fields(value):
            _collect_imports(getattr(value, f.name), found)
    elif isinstance(value, tuple):
        for item in value:
            _collect_imports(item, found)

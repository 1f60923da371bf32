"""Django's compiled SQL for one query *shape*, reused with new values (the list page's hot path, issue 4).

Building and compiling the list page's queryset (permission subqueries, the filter's conditions, five joins, two
correlated subqueries) costs more Python time per page than PostgreSQL takes to answer it at a million
conversations. Pages of the same shape (same conditions, list lengths, member, role and permissions, cursor or
not) compile to the same SQL text with other parameters. A ``QueryTemplate`` is that text plus, for each
parameter, which input value it is. ``learn`` finds that out by compiling the query three times:

* twice with *stand-ins*, two different sets of distinct sentinel values for every input: a parameter equal to
  the same input's stand-in in both compiles is that input; one that is the same in both is a constant. Anything
  else (a parameter derived from an input in a way the caller did not declare, or SQL text that changed with the
  values) means the shape's SQL cannot be reused, and it is compiled for every request as before;
* once with the real values: the template bound to them must give exactly Django's SQL and parameters, else the
  request is answered from that compile and nothing is stored.

A template holds no value of the request that taught it: organization, membership, user, channel and label ids are
bound again for each request, which is what keeps a reused page scoped to whoever asks.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet


@dataclass(frozen=True)
class Compiled:
    """A ``values()`` queryset's SQL as Django would run it (``sql`` None: Django knows it matches nothing)."""

    sql: str | None
    params: tuple[Any, ...]
    names: tuple[str, ...]
    fields: tuple[Any, ...]  # the selected expressions, for the backend's converters (SQLite's datetimes)
    alias: str


def compile_values(queryset: QuerySet) -> Compiled:
    """Compile a ``values()`` queryset the way iterating it would (``ValuesIterable``, ``results_iter``)."""
    query = queryset.query
    compiler = query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return Compiled(None, (), (), (), queryset.db)
    if query.selected:
        names = list(query.selected)
    else:  # extra(select=...) columns come first, then fields, then annotations
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
    fields = tuple(column[0] for column in compiler.select[: compiler.col_count])
    return Compiled(sql, tuple(params), tuple(names), fields, queryset.db)


@dataclass(frozen=True)
class QueryTemplate:
    """Compiled SQL whose parameters are taken from a list of values: ``sources[i]`` is the index of parameter
    ``i``'s value, or -1 for the constant ``constants[i]``; positions in ``adapted`` pass through the backend's
    datetime adaptation (SQLite sends datetimes as text, PostgreSQL as they are)."""

    compiled: Compiled
    sources: tuple[int, ...]
    constants: tuple[Any, ...]
    adapted: tuple[int, ...] = ()

    @classmethod
    def constant(cls, compiled: Compiled) -> QueryTemplate:
        """A template of one compile's own parameters (for a request answered without reuse)."""
        return cls(compiled, (-1,) * len(compiled.params), compiled.params)

    def bind(self, values: Sequence[Any]) -> list[Any]:
        params = [values[s] if s >= 0 else c for s, c in zip(self.sources, self.constants, strict=True)]
        if self.adapted:
            ops = connections[self.compiled.alias].ops
            for position in self.adapted:
                params[position] = ops.adapt_datetimefield_value(params[position])
        return params

    def rows(self, values: Sequence[Any]) -> list[dict[str, Any]]:
        """Run the SQL with ``values`` bound: the rows as ``values()`` would give them (one query, none if empty)."""
        compiled = self.compiled
        if compiled.sql is None:
            return []
        connection = connections[compiled.alias]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, self.bind(values))
            rows = cursor.fetchall()
        converters = []
        for position, expression in enumerate(compiled.fields):
            functions = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
            if functions:
                converters.append((position, functions, expression))
        names = compiled.names
        if not converters:
            return [dict(zip(names, row, strict=True)) for row in rows]
        converted = []
        for row in rows:
            row = list(row)
            for position, functions, expression in converters:
                for function in functions:
                    row[position] = function(row[position], expression, connection)
            converted.append(dict(zip(names, row, strict=True)))
        return converted


class Verdict(enum.Enum):
    REUSE = "reuse"  # store the template for this shape
    COMPILE_EACH_TIME = "compile each time"  # this shape's SQL depends on values the stand-ins cannot follow
    NOT_NOW = "not now"  # this request's values compile to other SQL (e.g. a repeated id): store nothing


def _typed(value: Any) -> tuple[type, Any]:
    return (type(value), value)  # 1, 1.0 and True are equal in Python, and are not the same parameter


def _index(values: Sequence[Any], alias: str) -> dict[tuple[type, Any], tuple[int, bool]] | None:
    """Each stand-in (and its adapted form, for datetimes) -> (its position, adapted?); None if two are equal."""
    ops = connections[alias].ops
    index: dict[tuple[type, Any], tuple[int, bool]] = {}
    for position, value in enumerate(values):
        forms = [(_typed(value), (position, False))]
        if isinstance(value, datetime):
            adapted = ops.adapt_datetimefield_value(value)
            if _typed(adapted) != _typed(value):
                forms.append((_typed(adapted), (position, True)))
        for key, source in forms:
            if key in index:
                return None
            index[key] = source
    return index


def learn(
    build: Callable[[Any], QuerySet],
    real: tuple[Any, Sequence[Any]],
    probes: tuple[tuple[Any, Sequence[Any]], tuple[Any, Sequence[Any]]],
) -> tuple[QueryTemplate, Verdict]:
    """The template answering ``real`` and whether it may answer later requests of the same shape.

    ``build(inputs)`` returns the ``values()`` queryset for one set of inputs; ``real`` and each of the two
    ``probes`` are ``(inputs, values)``, where ``values`` lists every input value as the SQL receives it, in the
    same order for all three (the probes' values distinct stand-ins, different between the two probes).
    """
    real_inputs, real_values = real
    mine = compile_values(build(real_inputs))
    answer = QueryTemplate.constant(mine)
    (inputs_a, values_a), (inputs_b, values_b) = probes
    a, b = compile_values(build(inputs_a)), compile_values(build(inputs_b))
    if a.sql is None or b.sql is None:
        if a.sql is None and b.sql is None:
            return (answer, Verdict.REUSE) if mine.sql is None else (answer, Verdict.NOT_NOW)
        return answer, Verdict.COMPILE_EACH_TIME
    if a.sql != b.sql or len(a.params) != len(b.params) or len(values_a) != len(values_b):
        return answer, Verdict.COMPILE_EACH_TIME
    index_a, index_b = _index(values_a, a.alias), _index(values_b, b.alias)
    if index_a is None or index_b is None:
        return answer, Verdict.COMPILE_EACH_TIME
    sources, constants, adapted = [], [], []
    for position, (param_a, param_b) in enumerate(zip(a.params, b.params, strict=True)):
        try:
            source_a, source_b = index_a.get(_typed(param_a)), index_b.get(_typed(param_b))
            same = _typed(param_a) == _typed(param_b)
        except TypeError:  # an unhashable parameter (a list): not something this module can follow
            return answer, Verdict.COMPILE_EACH_TIME
        if source_a is not None and source_a == source_b:
            sources.append(source_a[0])
            constants.append(None)
            if source_a[1]:
                adapted.append(position)
        elif source_a is None and source_b is None and same:
            sources.append(-1)
            constants.append(param_a)
        else:
            return answer, Verdict.COMPILE_EACH_TIME
    if mine.sql != a.sql:
        return answer, Verdict.NOT_NOW
    template = QueryTemplate(mine, tuple(sources), tuple(constants), tuple(adapted))
    if [_typed(p) for p in template.bind(real_values)] != [_typed(p) for p in mine.params]:
        return answer, Verdict.NOT_NOW
    return template, Verdict.REUSE

"""Collection functions (element, flatten, zipmap, slice, set operations, ...) and the type
conversions tolist/toset/tomap, with Terraform's semantics and parameter names.

Sets are lists that remember they are sets (HclSet, so `for_each` can tell), ordered as
Terraform prints them (numbers numerically, strings lexically); maps iterate in key order.
Sensitivity marks: the functions that only move elements (element, flatten, zipmap, slice,
reverse, setproduct, chunklist, tolist, tomap, lookup, merge, concat, keys, values) are
MarkMode.ELEMENTS, so their elements keep their own marks, as in Terraform 1.11 (a marked
nested list in flatten, or a marked key in zipmap, marks the whole result); the others look at
the elements' values (sort, distinct, the set operations, contains, ...) and are marked whole.
Callers: expressions.functions (the registry).
"""

from __future__ import annotations

from typing import Any

from reconciler.errors import FunctionError
from reconciler.expressions import numbers
from reconciler.expressions.coerce import HclSet, hcl_equal, type_name
from reconciler.expressions.functions_base import (
    FunctionEnv,
    FunctionSpec,
    MarkMode,
    arg_bool,
    arg_int,
    arg_list,
    arg_map,
    arg_str,
    sort_key,
    spec,
    unify,
)
from reconciler.values import UNKNOWN, Sensitive, remark, unmark


def _distinct(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if not any(hcl_equal(item, seen) for seen in out):
            out.append(item)
    return out


def as_set(items: list[Any], arg: int) -> list[Any]:
    values = _distinct(unify(items, what="list", arg=arg))
    if any(isinstance(v, list | tuple | dict) for v in values):
        return HclSet(values)
    return HclSet(sorted(values, key=sort_key))


def fn_element(env: FunctionEnv, args: list[Any]) -> Any:
    items, index = arg_list(args, 0), arg_int(args, 1)
    if not items:
        raise FunctionError("cannot use element function with an empty list")
    return items[index % len(items)]


def fn_compact(env: FunctionEnv, args: list[Any]) -> Any:
    items = unify(arg_list(args, 0), what="list", arg=0)
    return [x for x in items if x is not None and x != ""]


def _flatten(items: list[Any]) -> tuple[list[Any], bool]:
    """(the elements of nested lists, whether a nested list was itself marked: as in Terraform,
    that marks the whole result; a marked element that is not a list stays as it is)."""
    out: list[Any] = []
    marked = False
    for item in items:
        inner, item_marked = unmark(item) if isinstance(item, Sensitive) else (item, False)
        if isinstance(inner, list | tuple):
            nested, nested_marked = _flatten(list(inner))
            out.extend(nested)
            marked = marked or item_marked or nested_marked
        else:
            out.append(item)
    return out, marked


def fn_flatten(env: FunctionEnv, args: list[Any]) -> Any:
    items, marked = _flatten(arg_list(args, 0))
    return remark(items, marked)


def fn_one(env: FunctionEnv, args: list[Any]) -> Any:
    items = arg_list(args, 0)
    if len(items) > 1:
        raise FunctionError("must be a list, set, or tuple value with either zero or one elements", 0)
    return items[0] if items else None


def fn_zipmap(env: FunctionEnv, args: list[Any]) -> Any:
    keys, values = arg_list(args, 0), arg_list(args, 1)
    if len(keys) != len(values):
        raise FunctionError(f"number of keys ({len(keys)}) does not match number of values ({len(values)})")
    plain_keys = [unmark(k) for k in keys]  # a sensitive key marks the whole map (Terraform)
    out = {arg_str([k], 0): v for (k, _), v in zip(plain_keys, values, strict=True)}
    return remark(out, any(marked for _, marked in plain_keys))


def fn_distinct(env: FunctionEnv, args: list[Any]) -> Any:
    return _distinct(unify(arg_list(args, 0), what="list", arg=0))


def fn_coalescelist(env: FunctionEnv, args: list[Any]) -> Any:
    for i, arg in enumerate(args):
        if arg is None:
            continue
        if arg_list(args, i):
            return list(arg)
    raise FunctionError("no non-null arguments")


def fn_coalesce(env: FunctionEnv, args: list[Any]) -> Any:
    if any(a is UNKNOWN for a in args):
        return UNKNOWN
    present = unify([a for a in args if a is not None], what="value", arg=0)
    for value in present:
        if value != "":
            return value
    raise FunctionError("no non-null, non-empty-string arguments")


def fn_slice(env: FunctionEnv, args: list[Any]) -> Any:
    items, start, end = arg_list(args, 0), arg_int(args, 1), arg_int(args, 2)
    if start < 0:
        raise FunctionError("start index must not be less than zero", 1)
    if start > len(items):
        raise FunctionError("start index must not be greater than the length of the list", 1)
    if end > len(items):
        raise FunctionError("end index must not be greater than the length of the list", 2)
    if start > end:
        raise FunctionError("start index must not be greater than end index", 1)
    return items[start:end]


def fn_sort(env: FunctionEnv, args: list[Any]) -> Any:
    items = arg_list(args, 0)
    texts = [arg_str(items, i) for i in range(len(items))]
    return sorted(texts)


def fn_reverse(env: FunctionEnv, args: list[Any]) -> Any:
    return list(reversed(arg_list(args, 0)))


def fn_setunion(env: FunctionEnv, args: list[Any]) -> Any:
    return as_set([x for i in range(len(args)) for x in arg_list(args, i)], 0)


def fn_setintersection(env: FunctionEnv, args: list[Any]) -> Any:
    first = as_set(arg_list(args, 0), 0)
    others = [as_set(arg_list(args, i), i) for i in range(1, len(args))]
    return HclSet(x for x in first if all(any(hcl_equal(x, y) for y in other) for other in others))


def fn_setsubtract(env: FunctionEnv, args: list[Any]) -> Any:
    remove = as_set(arg_list(args, 1), 1)
    return HclSet(x for x in as_set(arg_list(args, 0), 0) if not any(hcl_equal(x, y) for y in remove))


def fn_setproduct(env: FunctionEnv, args: list[Any]) -> Any:
    result: list[list[Any]] = [[]]
    for i in range(len(args)):
        result = [[*row, x] for row in result for x in arg_list(args, i)]
    return result


def fn_index(env: FunctionEnv, args: list[Any]) -> Any:
    for i, item in enumerate(arg_list(args, 0)):
        if hcl_equal(item, args[1]):
            return numbers.from_int(i)
    raise FunctionError("item not found")


def fn_chunklist(env: FunctionEnv, args: list[Any]) -> Any:
    items, size = arg_list(args, 0), arg_int(args, 1)
    if size < 0:
        raise FunctionError("the size argument must be positive")
    if size == 0:
        return [items] if items else []
    return [items[i : i + size] for i in range(0, len(items), size)]


def fn_transpose(env: FunctionEnv, args: list[Any]) -> Any:
    out: dict[str, list[str]] = {}
    source = arg_map(args, 0)
    for key in sorted(source):
        values = source[key]
        if not isinstance(values, list | tuple):
            raise FunctionError("input must be a map of lists of strings", 0)
        for value in values:
            out.setdefault(arg_str([value], 0), []).append(key)
    return out


def _bools(args: list[Any]) -> list[bool]:
    items = arg_list(args, 0)
    out = []
    for item in items:
        try:
            out.append(arg_bool([item], 0))
        except FunctionError:
            raise FunctionError("a bool is required", 0) from None
    return out


def fn_alltrue(env: FunctionEnv, args: list[Any]) -> Any:
    return all(_bools(args))


def fn_anytrue(env: FunctionEnv, args: list[Any]) -> Any:
    return any(_bools(args))


def fn_tolist(env: FunctionEnv, args: list[Any]) -> Any:
    return None if args[0] is None else unify(arg_list(args, 0), what="list", arg=0)


def fn_toset(env: FunctionEnv, args: list[Any]) -> Any:
    return None if args[0] is None else as_set(arg_list(args, 0), 0)


def fn_tomap(env: FunctionEnv, args: list[Any]) -> Any:
    if args[0] is None:
        return None
    mapping = arg_map(args, 0)
    keys = sorted(mapping)
    values = unify([mapping[k] for k in keys], what="object to map", arg=0)
    return dict(zip(keys, values, strict=True))


def fn_lookup(env: FunctionEnv, args: list[Any]) -> Any:
    mapping, key = arg_map(args, 0), arg_str(args, 1)
    if key in mapping:
        return mapping[key]
    if len(args) > 2:
        return args[2]
    raise FunctionError(f'the given object has no attribute "{key}"', 0)


def fn_merge(env: FunctionEnv, args: list[Any]) -> Any:
    out: dict[str, Any] = {}
    for arg in args:
        if arg is None:
            continue
        if not isinstance(arg, dict):
            raise FunctionError(f'arguments must be maps or objects, got "{type_name(arg)}"')
        out.update(arg)
    return out


def fn_concat(env: FunctionEnv, args: list[Any]) -> Any:
    for i, arg in enumerate(args):
        if not isinstance(arg, list | tuple):
            raise FunctionError(f"all arguments must be lists or tuples; got {type_name(arg)}", i)
    return [item for arg in args for item in arg]


def fn_keys(env: FunctionEnv, args: list[Any]) -> Any:
    return sorted(arg_map(args, 0))


def fn_values(env: FunctionEnv, args: list[Any]) -> Any:
    mapping = arg_map(args, 0)
    return [mapping[k] for k in sorted(mapping)]


def fn_contains(env: FunctionEnv, args: list[Any]) -> Any:
    return any(hcl_equal(item, args[1]) for item in arg_list(args, 0))


def fn_matchkeys(env: FunctionEnv, args: list[Any]) -> Any:
    values, keys, search = arg_list(args, 0), arg_list(args, 1), arg_list(args, 2)
    if len(values) != len(keys):
        raise FunctionError("length of keys and values should be equal")
    return [v for v, k in zip(values, keys, strict=True) if any(hcl_equal(k, s) for s in search)]


COLLECTION_FUNCTIONS: dict[str, FunctionSpec] = {
    "element": spec(fn_element, "list", "index", marks=MarkMode.ELEMENTS),
    "compact": spec(fn_compact, "list"),
    "flatten": spec(fn_flatten, "list", tolerant=True, marks=MarkMode.ELEMENTS),
    "one": spec(fn_one, "list", tolerant=True),
    "zipmap": spec(fn_zipmap, "keys", "values", tolerant=True, marks=MarkMode.ELEMENTS),
    "distinct": spec(fn_distinct, "list"),
    "coalescelist": spec(fn_coalescelist, variadic="vals", tolerant=True),
    "coalesce": spec(fn_coalesce, variadic="vals", tolerant=True),
    "slice": spec(fn_slice, "list", "start_index", "end_index", tolerant=True, marks=MarkMode.ELEMENTS),
    "sort": spec(fn_sort, "list"),
    "reverse": spec(fn_reverse, "list", tolerant=True, marks=MarkMode.ELEMENTS),
    "setunion": spec(fn_setunion, "first_set", variadic="other_sets"),
    "setintersection": spec(fn_setintersection, "first_set", variadic="other_sets"),
    "setsubtract": spec(fn_setsubtract, "a", "b"),
    "setproduct": spec(fn_setproduct, variadic="sets", marks=MarkMode.ELEMENTS),
    "index": spec(fn_index, "list", "value"),
    "chunklist": spec(fn_chunklist, "list", "size", tolerant=True, marks=MarkMode.ELEMENTS),
    "transpose": spec(fn_transpose, "values"),
    "alltrue": spec(fn_alltrue, "list"),
    "anytrue": spec(fn_anytrue, "list"),
    "tolist": spec(fn_tolist, "v", tolerant=True, marks=MarkMode.ELEMENTS),
    "toset": spec(fn_toset, "v"),
    "tomap": spec(fn_tomap, "v", tolerant=True, marks=MarkMode.ELEMENTS),
    "lookup": spec(
        fn_lookup, "inputMap", "key", "default", optional=1, tolerant=True, marks=MarkMode.ELEMENTS
    ),
    "merge": spec(fn_merge, variadic="maps", tolerant=True, marks=MarkMode.ELEMENTS),
    "concat": spec(fn_concat, variadic="seqs", tolerant=True, marks=MarkMode.ELEMENTS),
    "keys": spec(fn_keys, "inputMap", tolerant=True, marks=MarkMode.ELEMENTS),
    "values": spec(fn_values, "mapping", tolerant=True, marks=MarkMode.ELEMENTS),
    "contains": spec(fn_contains, "list", "value"),
    "matchkeys": spec(fn_matchkeys, "values", "keys", "searchset"),
}

"""Sensitivity marks travel with values (issue 8), as Terraform's do: table-driven.

Each case is an expression over a context holding a sensitive string `var.s` (and a sensitive
number, bool, map and index), with the value it must give once the marks are stripped and the
places that must still carry a mark: `()` is the whole value, `("b",)` one key of a map, `(1,)` one
element of a list; no marks at all is `[]`. Then: messages never show a marked value, and the mark
helpers (strip, put back, conceal) do what planning and state rely on.

Terraform's own answers for marks through its functions, operators and template directives
(`sensitive(...)` literals) are rows of the conformance table (fixtures/terraform_conformance.json);
here are the cases that need variables, unknowns and digests, and the language constructs around
expressions: dynamic blocks, validation rules, numbers, sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.address import Address
from reconciler.config import evaluate_body, load_stack, resolve_variables
from reconciler.errors import ConfigError, EvalError
from reconciler.expressions import UNKNOWN, EvalContext, evaluate, parse_expression
from reconciler.expressions.coerce import HclSet
from reconciler.expressions.numbers import Num, format_number
from reconciler.sensitive import conceal, keyed_digest, legacy_matches, migrate_legacy, redact, reveal
from reconciler.values import (
    Digest,
    Sensitive,
    mark,
    mark_paths,
    sensitive_digest,
    unmark,
    unmark_deep,
)

SECRET = "hunter2-marked-value"
KEY = "0" * 64
FILE = Path("main.hcl")


def ctx(tmp_path: Path | None = None) -> EvalContext:
    return EvalContext(
        variables={
            "s": mark(SECRET),
            "n": mark(3),
            "b": mark(True),
            "i": mark(1),
            "m": mark({"k": "v", "j": "w"}),
            "plain": "web",
            "d": Digest("hmac-sha256:00"),
            "one": mark(1),
            "ml": mark(["a", SECRET]),
            "mll": mark([["a", SECRET]]),
        },
        locals={
            "l": ["a", mark(SECRET)],
            "obj": {"a": mark(SECRET), "b": "plain"},
            "objs": [{"name": mark(SECRET)}, {"name": "b"}],
            "u": UNKNOWN,
        },
        base_dir=tmp_path or Path.cwd(),
    )


def run(src: str, context: EvalContext | None = None) -> Any:
    return evaluate(parse_expression(src, file=FILE), context or ctx())


WHOLE: list[tuple[int | str, ...]] = [()]

CASES: list[tuple[str, Any, list[tuple[int | str, ...]]]] = [
    # references and traversal
    ("var.s", SECRET, WHOLE),
    ("var.plain", "web", []),
    ("var.m.k", "v", WHOLE),  # an element of a marked map
    ('var.m["j"]', "w", WHOLE),
    ("local.obj.a", SECRET, WHOLE),
    ("local.obj.b", "plain", []),  # a plain element of a map with a marked one
    ("local.l[var.i]", SECRET, WHOLE),
    ('["x", "y"][var.i]', "y", WHOLE),  # a marked index
    ("local.l[0]", "a", []),
    ("local.objs[*].name", [SECRET, "b"], [(0,)]),
    # collections keep their elements' marks
    ('["a", var.s]', ["a", SECRET], [(1,)]),
    ('{ a = "1", b = var.s }', {"a": "1", "b": SECRET}, [("b",)]),
    ("{ (var.s) = 1 }", {SECRET: 1}, WHOLE),  # a marked key marks the object
    # interpolation, operators, conditionals
    ('"x-${var.s}"', f"x-{SECRET}", WHOLE),
    ('"${var.s}"', SECRET, WHOLE),
    ('"${var.plain}-1"', "web-1", []),
    ('"${var.s}${local.u}"', UNKNOWN, WHOLE),  # unknown, and still sensitive
    ("var.n + 1", 4, WHOLE),
    ("-var.n", -3, WHOLE),
    ("!var.b", False, WHOLE),
    ('var.s == "x"', False, WHOLE),
    ('local.l == ["a", "b"]', False, WHOLE),  # compares a marked element
    ('var.s == "x" ? "a" : "b"', "b", WHOLE),  # a marked condition
    ('true ? var.s : "b"', SECRET, WHOLE),
    ('true ? "a" : var.s', "a", WHOLE),  # HCL unifies both branches' marks (Terraform 1.11 too)
    ('true ? "a" : local.l[0]', "a", []),
    # function calls: a marked argument anywhere marks the result ...
    ("upper(var.s)", SECRET.upper(), WHOLE),
    ("length(var.s)", len(SECRET), WHOLE),
    ('join(",", local.l)', f"a,{SECRET}", WHOLE),
    ('jsonencode({ a = var.s })', f'{{"a":"{SECRET}"}}', WHOLE),
    ('format("%s!", var.s)', f"{SECRET}!", WHOLE),
    ('replace("token=X", "X", var.s)', f"token={SECRET}", WHOLE),
    ('contains(local.l, "a")', True, WHOLE),
    ("toset(local.l)", sorted(["a", SECRET]), WHOLE),
    ('base64encode(var.s) == ""', False, WHOLE),
    ("upper(var.d)", UNKNOWN, WHOLE),  # a Digest is a sensitive value nobody can see
    ('coalesce("", var.s)', SECRET, WHOLE),
    # ... except functions that only move elements around: those keep element marks
    ('merge({ a = "1" }, { b = var.s })', {"a": "1", "b": SECRET}, [("b",)]),
    ('concat(["x"], local.l)', ["x", "a", SECRET], [(2,)]),
    ('lookup(local.obj, "b")', "plain", []),
    ('lookup(local.obj, "a")', SECRET, WHOLE),
    ('lookup({ x = "y" }, var.s, "none")', "none", WHOLE),  # a marked key
    ("keys(local.obj)", ["a", "b"], []),
    ("values(local.obj)", [SECRET, "plain"], [(0,)]),
    ("length(local.l)", 2, []),
    ("tolist(local.l)", ["a", SECRET], [(1,)]),
    ("merge(var.m)", {"k": "v", "j": "w"}, WHOLE),  # a marked argument marks the result
    # for expressions
    ("[for x in local.l : x]", ["a", SECRET], [(1,)]),
    ('[for x in local.l : "${x}!"]', ["a!", f"{SECRET}!"], [(1,)]),
    ('[for x in local.l : x if x == "a"]', ["a"], WHOLE),  # the condition reads a secret
    ("{ for k, v in local.obj : k => v }", {"a": SECRET, "b": "plain"}, [("a",)]),
    ('{ for v in ["a"] : var.s => v }', {SECRET: "a"}, WHOLE),  # a marked key
    ("[for x in var.m : x]", ["w", "v"], WHOLE),  # over a marked collection
    # template directives: a marked condition or collection, or a marked text rendered
    ('"%{ if var.b }yes%{ endif }"', "yes", WHOLE),
    ('"%{ for x in local.l }${x},%{ endfor }"', f"a,{SECRET},", WHOLE),
    ('"%{ for x in local.l }-%{ endfor }"', "--", []),  # the secret is never rendered
    ('"%{ for k, v in var.m }${k}%{ endfor }"', "jk", WHOLE),
    ('"%{ if local.u }x%{ endif }${var.s}"', UNKNOWN, WHOLE),
    # lang's functions: element movers keep element marks, the others mark the whole result
    ("element(local.l, 1)", SECRET, WHOLE),
    ("element(local.l, 0)", "a", []),
    ("element(local.l, var.i)", SECRET, WHOLE),  # a marked index
    ("flatten([local.l, [var.plain]])", ["a", SECRET, "web"], [(1,)]),
    ("flatten([var.m, []])", [{"k": "v", "j": "w"}], [(0,)]),  # a marked map is an element
    ("flatten([var.ml, []])", ["a", SECRET], WHOLE),  # a marked list nested in it marks all
    ('zipmap(["x", "y"], local.l)', {"x": "a", "y": SECRET}, [("y",)]),
    ('zipmap([var.s], ["v"])', {SECRET: "v"}, WHOLE),  # a marked key marks the map
    ("slice(local.l, 1, 2)", [SECRET], [(0,)]),
    ("reverse(local.l)", [SECRET, "a"], [(0,)]),
    ("chunklist(local.l, 1)", [["a"], [SECRET]], [(1, 0)]),
    ("tomap(local.obj)", {"a": SECRET, "b": "plain"}, [("a",)]),
    ('tolist([var.n, "x"])', ["3", "x"], [(0,)]),  # converted to string inside its mark
    ("compact(local.l)", ["a", SECRET], WHOLE),
    ("distinct(local.l)", ["a", SECRET], WHOLE),
    ('index(local.l, "a")', 0, WHOLE),
    ("one([var.s])", SECRET, WHOLE),
    ('setunion(local.l, ["z"])', sorted(["a", SECRET, "z"]), WHOLE),
    ("sum([1, var.n])", 4, WHOLE),
    ('cidrsubnet("10.0.0.0/16", 8, var.n)', "10.0.3.0/24", WHOLE),
    ('substr(var.s, 0, 7)', SECRET[:7], WHOLE),
    ('regex("[a-z]+", var.s)', "hunter", WHOLE),
    ("sha256(var.s) == sha256(var.plain)", False, WHOLE),
    ("coalescelist([], local.l)", ["a", SECRET], WHOLE),
    ("max(var.n, 1)", 3, WHOLE),
    ("concat([local.l]...)", ["a", SECRET], [(1,)]),  # a spread list: its elements moved as they are
    ("concat(var.mll...)", ["a", SECRET], WHOLE),  # a marked spread list marks all
    ("length(flatten([local.l]))", 2, []),
    # sensitive(), nonsensitive(), issensitive()
    ('sensitive("x")', "x", WHOLE),
    ("sensitive(local.u)", UNKNOWN, WHOLE),  # still unknown, already sensitive
    ("nonsensitive(var.s)", SECRET, []),
    ("nonsensitive(var.plain)", "web", []),  # Terraform 1.11: not an error
    ("nonsensitive(local.l)", ["a", SECRET], [(1,)]),  # the elements keep their marks
    ("nonsensitive(var.d)", UNKNOWN, []),  # held only as a digest: unknown, no longer marked
    ("nonsensitive(local.u)", UNKNOWN, []),
    ("issensitive(var.s)", True, []),
    ("issensitive(local.l)", False, []),  # only the value's own mark counts
    ("issensitive(var.d)", True, []),
    ("issensitive(local.u)", False, []),
    # try and can
    ('try(var.s, "x")', SECRET, WHOLE),
    ('try(local.obj.missing, var.s)', SECRET, WHOLE),
    ("can(var.s)", True, []),
    ('true ? "a" : var.m.missing', "a", []),  # the other branch fails: no mark to take from it
]


@pytest.mark.parametrize(("src", "plain", "marks"), CASES, ids=[c[0] for c in CASES])
def test_marks_travel_with_values(src: str, plain: Any, marks: list[tuple[int | str, ...]]) -> None:
    value = run(src)
    got, paths = unmark_deep(value)
    assert (got is UNKNOWN) if plain is UNKNOWN else got == plain
    assert sorted(paths, key=repr) == sorted(marks, key=repr)


def test_templatefile_with_a_sensitive_variable_is_sensitive(tmp_path: Path) -> None:
    (tmp_path / "init.tpl").write_text("token=${t}\n")
    value = run('templatefile("init.tpl", { t = var.s })', ctx(tmp_path))
    assert unmark_deep(value) == (f"token={SECRET}\n", [()])


ERRORS = [
    ("tonumber(var.s)", "Invalid function argument"),
    ("var.s + 1", "a number is required, got (sensitive value)"),
    ("var.s ? 1 : 2", "must be of type bool, got (sensitive value)"),
    ('{ a = 1 }[var.s]', "Unsupported key (sensitive value)"),
    ('["a"][var.s]', "Invalid index"),
    ('lookup({ a = 1 }, var.s)', "the call failed on a sensitive argument"),
    ("var.s.attr", "Cannot index a string value ((sensitive value))"),
    ('{ for v in ["a", "b"] : var.s => v }', "Duplicate object key (sensitive value)"),
    ("base64decode(var.s)", "the call failed on a sensitive argument"),
    ("jsondecode(var.s)", "the call failed on a sensitive argument"),
    ("cidrsubnet(var.s, 8, 1)", "the call failed on a sensitive argument"),
    ('element(local.l, "x")', 'a number is required, got "x"'),  # the culprit is not secret
    ('"%{ if var.s }x%{ endif }"', "must be of type bool, got (sensitive value)"),
    ('"%{ for x in var.s }x%{ endfor }"', "A value of type string cannot be used"),
    ("var.s * 2", "Unsuitable value for left operand: a number is required, got (sensitive value)"),
]


@pytest.mark.parametrize(("src", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_never_show_a_marked_value(src: str, message: str) -> None:
    with pytest.raises(EvalError) as caught:
        run(src)
    diag = caught.value.diagnostic
    text = f"{diag.summary} {diag.detail} {diag.suggestion}"
    assert SECRET not in text and message in text, text


def test_a_marked_value_never_prints_itself() -> None:
    secret = mark({"token": SECRET})
    for text in (repr(secret), str(secret), f"{secret}", str([secret]), str(Digest("hmac-sha256:ab"))):
        assert SECRET not in text and "hmac" not in text and text.count("(sensitive value)") == 1


def test_marks_come_off_and_go_back_where_they_were() -> None:
    value = {"name": "web", "tags": {"Token": mark(SECRET)}, "list": ["a", mark("b")]}
    plain, paths = unmark_deep(value)
    assert plain == {"name": "web", "tags": {"Token": SECRET}, "list": ["a", "b"]}
    assert mark_paths(plain, paths) == value
    assert mark_paths(plain, [("missing", "path")]) == plain


def test_conceal_keeps_only_a_keyed_digest() -> None:
    value = {"name": "web", "tags": {"Token": mark(SECRET)}, "later": mark(UNKNOWN), "none": mark(None)}
    concealed = conceal(value, KEY)
    assert concealed["name"] == "web" and concealed["later"] is UNKNOWN and concealed["none"] is None
    digest = concealed["tags"]["Token"]
    assert isinstance(digest, Digest) and digest == keyed_digest(SECRET, KEY)
    assert digest.text.startswith("hmac-sha256:") and SECRET not in digest.text
    assert digest.text.removeprefix("hmac-sha256:") not in (sensitive_digest(SECRET) or "")
    assert keyed_digest(SECRET, "1" * 64) != digest  # another lineage, another digest


def test_state_written_by_older_versions_is_recognised_and_migrated() -> None:
    legacy = sensitive_digest(SECRET)
    assert legacy_matches(legacy, mark(SECRET)) and not legacy_matches(legacy, mark("other"))
    stored = {"user_data": legacy, "tags": {"A": "1"}}
    migrated = migrate_legacy(stored, {"user_data": mark(SECRET), "tags": {"A": "1"}}, KEY)
    assert migrated == {"user_data": keyed_digest(SECRET, KEY), "tags": {"A": "1"}}
    assert migrate_legacy(stored, {"user_data": mark("changed")}, KEY) == stored


def test_reveal_gives_providers_the_value_and_refuses_a_digest() -> None:
    revealed = reveal({"user_data": mark(SECRET), "name": "web"}, what="x")
    assert revealed == {"user_data": SECRET, "name": "web"}
    with pytest.raises(Exception, match="only as a digest"):
        reveal({"user_data": Digest("hmac-sha256:00")}, what="aws_launch_template.web")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (f"The VPC ID 'vpc-{SECRET}' is not found", "The VPC ID 'vpc-(sensitive value)' is not found"),
        ('{"Token": "' + SECRET + '"}', '{"Token": "(sensitive value)"}'),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_messages_are_redacted(message: str, expected: str) -> None:
    assert redact(message, {SECRET}) == expected


def test_a_very_short_secret_is_not_searched_for_in_messages() -> None:
    assert redact("port 80 is closed on 10.0.0.80", {"80"}) == "port 80 is closed on 10.0.0.80"
    assert isinstance(Sensitive(1), Sensitive) and Sensitive(1) == mark(1)


DYNAMIC = """\
variable "disks" {
  type      = map(number)
  default   = { "/dev/xvdb" = 8 }
  sensitive = true
}

variable "token" {
  type      = string
  default   = "SECRET"
  sensitive = true
}

resource "aws_launch_template" "web" {
  name     = "web"
  image_id = "ami-1"
  dynamic "block_device_mapping" {
    for_each = var.disks
    content {
      device_name = block_device_mapping.key
      volume_size = block_device_mapping.value
    }
  }
  dynamic "metadata_options" {
    for_each = { required = length(var.token) }
    content {
      http_tokens                 = metadata_options.key
      http_put_response_hop_limit = metadata_options.value
    }
  }
}
""".replace("SECRET", SECRET)


def test_dynamic_blocks_carry_the_marks_of_their_for_each(tmp_path: Path) -> None:
    from reconciler.address import Mode
    from reconciler.config import validate_arguments
    from reconciler.sdk.registry import all_schemas

    (tmp_path / "main.hcl").write_text(DYNAMIC)
    stack = load_stack(tmp_path)
    block = stack.resources[Address("aws_launch_template", "web")]
    values = evaluate_body(block.body, EvalContext(variables=resolve_variables(stack, environ={})))
    plain, paths = unmark_deep(values)
    assert plain["block_device_mapping"] == [{"device_name": "/dev/xvdb", "volume_size": 8}]
    assert plain["metadata_options"] == [{"http_tokens": "required", "http_put_response_hop_limit": 20}]
    # a sensitive for_each marks every block it generates (Terraform shows the attribute as
    # sensitive); a plain one with a sensitive value marks what uses that value only
    hop_limit = ("metadata_options", 0, "http_put_response_hop_limit")
    assert sorted(paths) == [("block_device_mapping", 0), hop_limit]
    schema = all_schemas()[(Mode.MANAGED, "aws_launch_template")]
    checked, diags = validate_arguments(schema, values, block.body, context="")
    assert diags == []
    # validation reshapes the blocks (defaults, a single block as a map): the marks go on the
    # whole argument then (config.arguments)
    assert sorted(unmark_deep(checked)[1]) == [("block_device_mapping",), ("metadata_options",)]
    assert SECRET not in repr(checked)


VALIDATED = """\
variable "token" {
  type      = string
  sensitive = true
  validation {
    condition     = length(var.token) > 8
    error_message = "The token ${var.token} is too short."
  }
}
"""


def test_a_validation_rule_reads_a_sensitive_variable_and_never_shows_it(tmp_path: Path) -> None:
    (tmp_path / "main.hcl").write_text(VALIDATED)
    stack = load_stack(tmp_path)
    assert unmark_deep(resolve_variables(stack, environ={}, cli_vars=[f"token={SECRET}"])) == (
        {"token": SECRET},
        [("token",)],
    )
    with pytest.raises(ConfigError) as caught:
        resolve_variables(stack, environ={}, cli_vars=["token=tiny-pw"])
    (diag,) = caught.value.diagnostics
    assert diag.summary == 'Invalid value for variable "token"' and "tiny-pw" not in diag.detail
    assert diag.detail.startswith(
        "The error message included a sensitive value, so it will not be displayed.\n"
        "The value is (sensitive value)"
    )


def test_numbers_keep_their_precision_under_a_mark() -> None:
    value, paths = unmark_deep(run("var.one / 3"))
    assert paths == [()] and isinstance(value, Num) and value.prec == 512
    assert format_number(value) == format_number(run("1 / 3"))  # all 157 digits
    tenths, _ = unmark_deep(run("var.one / 10 + 0.2"))
    assert format_number(tenths) == "0.3"
    # a digest is of the number as state would store it (its nearest double), so a value read back
    # from the cloud digests the same
    assert keyed_digest(run("var.one / 10 + 0.2"), KEY) == keyed_digest(0.3, KEY)
    assert keyed_digest(run("length(var.s)"), KEY) == keyed_digest(len(SECRET), KEY)
    assert isinstance(conceal({"n": run("var.one / 3")}, KEY)["n"], Digest)


def test_a_set_stays_a_set_when_marks_come_off_and_go_back() -> None:
    value = {"s": HclSet(["a", mark(SECRET)])}
    plain, paths = unmark_deep(value)
    assert isinstance(plain["s"], HclSet) and paths == [("s", 1)]
    assert isinstance(mark_paths(plain, paths)["s"], HclSet)
    whole = run("toset(local.l)")  # marked whole, as Terraform does (a set's elements cannot be)
    assert isinstance(unmark(whole)[0], HclSet) and isinstance(unmark_deep(whole)[0], HclSet)

"""Hypothesis strategies for the HCL front end: expression source text (valid and not), where to
put it in a stack, and byte-level mutations of a valid stack's files."""

from __future__ import annotations

import json

from hypothesis import strategies as st

from reconciler.expressions import FUNCTIONS

IDENT = st.sampled_from(["a", "b", "k", "v", "web", "x_1", "each", "count", "self", "path", "for", "in"])

_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]),  # any character but surrogates
    max_size=8,
)
STRING = st.one_of(
    _TEXT.map(json.dumps),  # a well-formed quoted string, \uXXXX escapes and all
    _TEXT.map(lambda t: f'"{t}"'),  # the raw text between quotes: may be anything
    st.sampled_from(['"\\uD800"', '"\\U0010FFFF"', '"\\UFFFFFFFF"', '"$${x}"', '"%%{x}"', '"\\q"']),
    # format verbs and regular expressions, for format() and replace()
    st.tuples(
        st.text(alphabet="+- 0#", max_size=3),
        st.sampled_from(["", "5", "05", "10001", ".2", "5.3", "[1]", "[9]"]),
        st.sampled_from(list("dxXobfeEgGtqsvz%")),
    ).map(lambda t: f'"%{t[0]}{t[1]}{t[2]}"'),
    st.sampled_from(['"/(a)/"', '"/a{99999999999}/"', '"/(/"', '"/(?P<x>a)/"', '"$2"', '"$${y}"', '"$1"']),
)
NUMBER = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=False).map(repr),
    st.sampled_from(["0.5", "1e3", "1e400", "007", "-0"]),
)
REFERENCE = st.sampled_from(
    [
        "var.v",
        "var.m",
        "var.nope",
        "local.l",
        "local.m",
        'local.m["k"]',
        "local.l[0]",
        "local.l[9]",
        "local.deep",
        "count.index",
        "each.key",
        "each.value",
        "aws_launch_template.t.id",
        "aws_launch_template.t",
        "aws_launch_template.nope.id",
        "data.aws_ami.app.id",
        "data.aws_ami.nope.id",
        "path.module",
        "self.x",
        "nope",
    ]
)
ATOM = st.one_of(STRING, NUMBER, REFERENCE, st.sampled_from(["true", "false", "null", "[]", "{}"]))
FUNCTION = st.sampled_from([*sorted(FUNCTIONS), "nope", "upper::x"])
BINARY = st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||"])


def _grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    items = st.lists(inner, max_size=4)
    return st.one_of(
        items.map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(st.one_of(IDENT, STRING), inner), max_size=3).map(
            lambda kv: "{" + ", ".join(f"{k} = {v}" for k, v in kv) + "}"
        ),
        st.tuples(inner, BINARY, inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(st.sampled_from(["!", "-"]), inner).map(lambda t: t[0] + t[1]),
        st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
        st.tuples(FUNCTION, items, st.booleans()).map(
            lambda t: f"{t[0]}({', '.join(t[1])}{'...' if t[2] and t[1] else ''})"
        ),
        st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(inner, IDENT).map(lambda t: f"{t[0]}.{t[1]}"),
        inner.map(lambda e: f"{e}[*].a"),
        inner.map(lambda e: f"({e})"),
        inner.map(lambda e: '"x${' + e + '}y"'),
        inner.map(lambda e: "<<-EOT\n  line ${" + e + "}\n  EOT\n"),
        st.tuples(inner, inner, st.booleans()).map(
            lambda t: f"[for k, v in {t[0]} : {t[1]}{' if v != null' if t[2] else ''}]"
        ),
        st.tuples(inner, inner, st.booleans()).map(
            lambda t: f"{{for k, v in {t[0]} : k => {t[1]}{'...' if t[2] else ''}}}"
        ),
    )


# calls whose string arguments are themselves a small language: format verbs, regular expressions
SPECIAL_CALLS = st.one_of(
    st.tuples(STRING, st.lists(ATOM, max_size=3)).map(lambda t: f"format({', '.join([t[0], *t[1]])})"),
    st.tuples(ATOM, STRING, STRING).map(lambda t: f"replace({t[0]}, {t[1]}, {t[2]})"),
    st.tuples(NUMBER, NUMBER, NUMBER).map(lambda t: f"range({t[0]}, {t[1]}, {t[2]})"),
    st.tuples(STRING, STRING).map(lambda t: f"split({t[0]}, {t[1]})"),
    STRING.map(lambda t: f"base64decode({t})"),
    STRING.map(lambda t: f"tonumber({t})"),
)

EXPRESSION = st.recursive(st.one_of(ATOM, SPECIAL_CALLS), _grow, max_leaves=12)

# A deep chain of one construct, around the nesting limit or far beyond it.
DEEP = st.tuples(
    st.sampled_from(["[", "(", "{a = ", "upper(", "!", "-", '"${', "true ? "]),
    st.sampled_from([50, 99, 100, 101, 150, 400, 3000]),
).map(
    lambda t: (
        t[0] * t[1]
        + "1"
        + {"[": "]", "(": ")", "{a = ": "}", "upper(": ")", '"${': '}"', "true ? ": " : 2"}.get(t[0], "")
        * t[1]
    )
)

# Where an expression goes, and what stands there otherwise.
DEFAULTS = {
    "local": '"x"',
    "output": "local.x",
    "name": '"t-${local.x}"',
    "tags": '{ Name = "t" }',
    "user_data": '"#!/bin/sh"',
    "count": "",
    "for_each": "",
    "volume_size": "8",
    "variable_default": '"t3.micro"',
    "fleet_min_size": "1",
    "fleet_desired_capacity": "2",
    "rollout_steps": "[10, 100]",
    "rollout_max_surge": '"25%"',
}
SLOTS = st.sampled_from(sorted(DEFAULTS))

_STACK = """provider "aws" {
  region = "us-east-1"
}

variable "v" {
  default = @variable_default@
}

variable "m" {
  type    = map(string)
  default = { k = "x" }
}

locals {
  l    = [1, 2]
  m    = { k = "x", j = "y" }
  deep = [[[[["d"]]]]]
  x    = @local@
}

data "aws_ami" "app" {
  name        = "app-*"
  most_recent = true
}

resource "aws_launch_template" "t" {
@meta@  name          = @name@
  image_id      = data.aws_ami.app.id
  instance_type = var.v
  user_data     = @user_data@
  tags          = @tags@

  block_device_mapping {
    device_name = "/dev/xvda"
    volume_size = @volume_size@
  }
}

resource "aws_fleet" "f" {
  name               = "f"
  launch_template    = aws_launch_template.u.id
  min_size           = @fleet_min_size@
  max_size           = 4
  desired_capacity   = @fleet_desired_capacity@
  availability_zones = ["us-east-1a"]

  rollout {
    strategy  = "canary"
    steps     = @rollout_steps@
    max_surge = @rollout_max_surge@
  }
}

resource "aws_launch_template" "u" {
  name     = "u"
  image_id = data.aws_ami.app.id
}

output "o" {
  value = @output@
}
"""


def stack_text(slot: str, expression: str) -> str:
    """A stack using every kind of block, with `expression` in `slot` (count and for_each: the
    meta-argument of aws_launch_template.t)."""
    values = {**DEFAULTS, slot: expression}
    meta = ""
    if slot in ("count", "for_each"):
        meta = f"  {slot} = {expression}\n"
    text = _STACK.replace("@meta@", meta)
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    return text


# ---- mutations of valid files --------------------------------------------------------------------

TOKENS = st.sampled_from(
    [
        b"{",
        b"}",
        b"[",
        b"]",
        b"(",
        b")",
        b'"',
        b"${",
        b"%{",
        b"=",
        b"==",
        b",",
        b".",
        b"\n",
        b"\r\n",
        b"\t",
        b"#",
        b"//",
        b"/*",
        b"*/",
        b"<<EOT\n",
        b"\nEOT\n",
        b"...",
        b"=>",
        b"?",
        b":",
        b"\\",
        b"\x00",
        b"\xff",
        b"\xc3",
        b"\xe2\x80\xa8",  # U+2028 LINE SEPARATOR
        b"\x0c",
        b"\xef\xbb\xbf",  # a BOM in the middle
        b"resource",
        b"locals",
        b"count",
        b"for_each",
        b"var.",
        b"each.key",
        b"null",
        b"-1",
        b"1e999",
    ]
)
UNICODE = st.text(min_size=1, max_size=6).map(lambda t: t.encode("utf-8", errors="surrogatepass"))


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with 1-4 edits: a span deleted, duplicated or swapped with another, or tokens,
    random text or a deep nesting inserted."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        size = len(out)
        i = draw(st.integers(0, size))
        j = draw(st.integers(i, min(size, i + 40)))
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "token", "unicode", "deep"]))
        if kind == "delete":
            del out[i:j]
        elif kind == "duplicate":
            out[j:j] = out[i:j]
        elif kind == "swap" and size:
            k = draw(st.integers(0, size))
            a, b = sorted((i, k))
            first, second = bytes(out[a : a + (j - i)]), bytes(out[b : b + (j - i)])
            out[b : b + len(second)] = first
            out[a : a + len(first)] = second
        elif kind == "token":
            out[i:i] = draw(TOKENS)
        elif kind == "unicode":
            out[i:i] = draw(UNICODE)
        else:
            out[i:i] = draw(DEEP).encode()
    return bytes(out)

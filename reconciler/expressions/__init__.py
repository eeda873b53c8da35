"""Expressions: the AST parsed from HCL, references, the evaluator, functions and UNKNOWN.

Callers: config (parsing attribute values, static reference checks), planning and applying
(evaluating bodies per instance). See `evaluator` for the UNKNOWN rules.
"""

from reconciler.errors import EvalError, ExprParseError
from reconciler.expressions.ast import (
    Binary,
    Conditional,
    Expr,
    ForExpr,
    FunctionCall,
    GetAttr,
    Index,
    Literal,
    ObjectExpr,
    ObjectItem,
    Reference,
    RefKind,
    Splat,
    Template,
    TupleExpr,
    Unary,
    Variable,
    traversal_parts,
)
from reconciler.expressions.evaluator import EvalContext, evaluate, suggest
from reconciler.expressions.functions import FUNCTIONS
from reconciler.expressions.parse import TreeConverter, parse_expression, parse_template
from reconciler.values import UNKNOWN

__all__ = [
    "FUNCTIONS",
    "UNKNOWN",
    "Binary",
    "Conditional",
    "EvalContext",
    "EvalError",
    "Expr",
    "ExprParseError",
    "ForExpr",
    "FunctionCall",
    "GetAttr",
    "Index",
    "Literal",
    "ObjectExpr",
    "ObjectItem",
    "RefKind",
    "Reference",
    "Splat",
    "Template",
    "TreeConverter",
    "TupleExpr",
    "Unary",
    "Variable",
    "evaluate",
    "parse_expression",
    "parse_template",
    "suggest",
    "traversal_parts",
]

"""The documented bounds on a model's graph, checked before onnxruntime sees the bytes (docs/security.md)."""

from __future__ import annotations

from typing import Mapping, NamedTuple

from edge_predict.errors import GraphLimitError


class GraphLimits(NamedTuple):  # immutable, as a frozen dataclass, without its compile() at import
    """How large a graph edge-predict loads; each bound is raised by name (--graph-limit NAME=N, limits={NAME: N})."""

    nodes: int = 20_000  # nodes in every graph and function: edge-train's largest export has under 100
    fields: int = 2_000_000  # protobuf fields the pre-load scan reads: what bounds its time (about a second)
    constant_bytes: int = 128 * 2**20  # initializers and Constant values, which onnxruntime copies
    tensor_elements: int = 2**24  # one tensor's elements, declared or statically known (64 MiB of float32)

    @classmethod
    def of(cls, given: "GraphLimits | Mapping[str, int] | None") -> "GraphLimits":
        """The limits from a GraphLimits, a {name: value} mapping over the defaults ('constant-bytes' or
        'constant_bytes'), or None (the defaults); ValueError naming a wrong name or value."""
        if given is None or isinstance(given, GraphLimits):
            return given or DEFAULT
        names = list(cls._fields)
        changes = {}
        for key, value in dict(given).items():
            name = str(key).replace("-", "_")
            if name not in names:
                raise ValueError(f"no graph limit {key!r}; the limits are {', '.join(shown(n) for n in names)}")
            if type(value) is not int or value < 1:
                raise ValueError(f"graph limit {shown(name)}={value!r}: expected a whole number >= 1")
            changes[name] = value
        return DEFAULT._replace(**changes)


DEFAULT = GraphLimits()


def shown(name: str) -> str:
    """A limit's name as the option spells it: constant_bytes -> constant-bytes."""
    return name.replace("_", "-")


def over_limit(source: str, name: str, what: str, limit: int) -> GraphLimitError:
    """The error for a graph beyond limit `name`: what it holds, the limit, and how to raise it."""
    return GraphLimitError(
        f"{source}: the model's graph has {what}, over the limit of {limit:,} {shown(name)}; if it is the model you "
        f"mean, raise the limit (--graph-limit {shown(name)}=N, or limits={{{name!r}: N}}); docs/security.md",
        limit=shown(name),
    )

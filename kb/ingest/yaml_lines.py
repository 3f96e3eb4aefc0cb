"""YAML that remembers the line of every key and item, with aliases, tags and depth bounded."""

from __future__ import annotations

from typing import Any

import yaml

from ..diagnostics import Diagnostics, excerpt


class LineDict(dict):
    """A YAML mapping that remembers its own line and the line of each key."""

    line: int = 1

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


class LineList(list):
    """A YAML sequence that remembers its own line and the line of each item."""

    line: int = 1

    def __init__(self, *args):
        super().__init__(*args)
        self.lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.lines[index] if index < len(self.lines) else self.line


class _LineLoader(yaml.SafeLoader):
    pass


# Dates stay strings so an impossible date ("2015-02-30") becomes our diagnostic, with its line,
# rather than an exception from inside the YAML parser.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain word, not a list or a mapping",
                key_node.start_mark)
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in result:
            loader.duplicate_keys.append((line, key))
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


# Only the types our files hold: text, numbers, yes/no, null, lists and mappings. A binary, a
# set, a timestamp or an ordered map written with an explicit tag (!!binary, !!set...) would
# otherwise reach the data as Python's text of a Python object.
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "str")}

_LineLoader.yaml_constructors = {tag: c for tag, c in yaml.SafeLoader.yaml_constructors.items()
                                 if tag in _PLAIN_TAGS or tag is None}  # None: refuse

_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)

# libyaml's parser (faster) with the same resolvers and line-keeping constructors.
# It is only trusted when it succeeds: on any error the pure-Python loader parses the text again,
# so that every diagnostic keeps its wording and line.
_CLineLoader = None

if getattr(yaml, "__with_libyaml__", False):
    class _CLineLoader(yaml.CSafeLoader):  # type: ignore[no-redef]
        pass

    _CLineLoader.yaml_implicit_resolvers = _LineLoader.yaml_implicit_resolvers
    _CLineLoader.yaml_constructors = dict(_LineLoader.yaml_constructors)
    _CLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_mapping)
    _CLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
                                 _construct_sequence)


def _load_fast(text: str) -> tuple[Any, list] | None:
    """``(data, duplicate keys)`` parsed by libyaml, or ``None`` if unavailable or in error."""
    if _CLineLoader is None:
        return None
    loader = _CLineLoader(text)
    try:
        loader.duplicate_keys = []
        return loader.get_single_data(), loader.duplicate_keys
    except RecursionError:
        raise
    except Exception:
        return None
    finally:
        loader.dispose()


# Deeper than this, a YAML value is no shape our files have (a theme is 2 levels deep).
MAX_YAML_DEPTH = 16


def _aliases(text: str) -> list[tuple[int, str]]:
    """``(line, alias)`` for each alias (``*name``) of a YAML text.

    Refused: no file of ours needs one, and nine nested aliases of nine make a billion values
    from 1 KB (an "alias bomb"). Only a text with an anchor (``&``) can hold one, and only such
    a text is scanned.
    """
    if "&" not in text:
        return []
    found = []
    try:
        for event in yaml.parse(text, Loader=_CLineLoader or _LineLoader):
            if isinstance(event, yaml.AliasEvent):
                found.append((event.start_mark.line + 1, event.anchor))
    except yaml.YAMLError:
        return []  # a syntax error: the loader reports it with its line
    return found


def _too_deep(data: Any) -> bool:
    """Whether ``data`` nests lists and mappings more than ``MAX_YAML_DEPTH`` levels (walked
    without recursion)."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth >= MAX_YAML_DEPTH:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict)
                                                  else value))
    return False


def load_yaml(text: str, path: str, diags: Diagnostics) -> Any:
    """Parse YAML keeping line numbers; a syntax error becomes a diagnostic and ``None``.

    Bounded: aliases and values nested deeper than ``MAX_YAML_DEPTH`` are refused, so a few
    bytes cannot become gigabytes of values or a recursion without end.
    """
    aliases = _aliases(text)
    if aliases:
        for line, name in aliases:
            diags.error(path, line, f"YAML alias '*{excerpt(name)}': aliases are not accepted "
                                    "here; write the value out in full")
        return None
    try:
        data = _load(text, path, diags)
    except RecursionError:
        data = _TOO_DEEP
    if data is _TOO_DEEP or _too_deep(data):
        diags.error(path, 1, f"YAML values nested more than {MAX_YAML_DEPTH} levels deep: no "
                             "file of the data folder has that shape")
        return None
    return data


_TOO_DEEP = object()


def _load(text: str, path: str, diags: Diagnostics) -> Any:
    fast = _load_fast(text)
    if fast is not None:
        data, duplicate_keys = fast
        for line, key in duplicate_keys:
            diags.error(path, line, f"duplicate key '{excerpt(key)}'")
        return data
    loader = None
    try:
        loader = _LineLoader(text)  # its reader already refuses control characters
        loader.duplicate_keys = []
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        diags.error(path, line, f"YAML syntax error: {problem}")
        return None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        diags.error(path, line, f"YAML syntax error: character #x{exc.character:04x} is not allowed")
        return None
    except yaml.YAMLError as exc:
        diags.error(path, 1, f"YAML syntax error: {exc}")
        return None
    finally:
        if loader is not None:
            loader.dispose()
    for line, key in loader.duplicate_keys:
        diags.error(path, line, f"duplicate key '{excerpt(key)}'")
    return data

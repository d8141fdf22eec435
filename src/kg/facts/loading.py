"""Loading fact files: YAML read safely, checked against the schema, references resolved."""

from __future__ import annotations

import difflib
import functools
import os
import re
import types
import typing
from collections.abc import Collection, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from kg.errors import InputError, Location, did_you_mean
from kg.facts.model import Entity, Fact, FactFile, Record, Ref, Source
from kg.facts.states import STATES_FILE, states_text

MAX_FILE_BYTES = 5_000_000
MAX_DEPTH = 20


MAX_DIGITS = 30  # an integer in a fact file (a paragraph, a count, an amount written bare)


class _Refused(yaml.MarkedYAMLError):
    """Well-formed YAML that a fact file may not hold (its message is not 'broken YAML')."""


class _Strict:
    """What both loaders construct: mappings without repeated or merge (<<) keys, integers of
    at most MAX_DIGITS digits (the resolvers below are YAML 1.2's: `no` is text, 0x1F, 12:30
    and 1_000_000 are text, `true` and `false` the only booleans)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE or (key_node.value == "<<" and not key_node.style):
                raise _Refused(problem="merge keys (<<) are not allowed in fact files: write "
                               "each key", problem_mark=key_node.start_mark)
            key = self.construct_object(key_node, deep=True)  # type: ignore[attr-defined]
            if isinstance(key, Hashable) and key in seen:
                raise _Refused(problem=f"the key '{key}' is given twice in this mapping (first "
                               f"at line {seen[key]})", problem_mark=key_node.start_mark)
            if isinstance(key, Hashable):
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)  # type: ignore[misc]

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = node.value.lstrip("+-")
        if len(text) > MAX_DIGITS:
            raise _Refused(problem=f"a number of {len(text):,} digits, over the limit of "
                           f"{MAX_DIGITS}", problem_mark=node.start_mark)
        return int(node.value)


_MERGE = "tag:yaml.org,2002:merge"


def _yaml_12_resolvers() -> dict[str | None, list]:
    """YAML 1.2's core schema, as far as fact files need it: null, booleans (true, false) and
    decimal integers; everything else (dates, decimals, YAML 1.1's yes/no/on/off, hex, octal,
    sexagesimal and underscored numbers, merge keys) stays text."""
    resolvers: dict[str | None, list] = {}
    for tag, pattern, first in (
        ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
        ("tag:yaml.org,2002:int", r"^[-+]?[0-9]+$", list("-+0123456789")),
    ):
        for char in first:
            resolvers.setdefault(char, []).append((tag, re.compile(pattern)))
    return resolvers


class _FactLoader(_Strict, yaml.SafeLoader):
    """A safe loader that keeps dates and decimals as written, and refuses anchors and aliases.

    Dates stay text so that '2025-02-30' gets our message, not PyYAML's traceback; decimals
    stay text so that an amount keeps every digit it was written with.
    """

    depth = 0

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        event = self.peek_event()
        if self.depth >= MAX_DEPTH:
            raise yaml.MarkedYAMLError(
                problem=f"nested deeper than {MAX_DEPTH} levels", problem_mark=event.start_mark
            )
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            mark = event.start_mark
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases (&name, *name) are not allowed in fact files",
                problem_mark=mark,
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_FactLoader.yaml_implicit_resolvers = _yaml_12_resolvers()
_FactLoader.add_constructor("tag:yaml.org,2002:int", _Strict.construct_yaml_int)

_CLoader: type | None = getattr(yaml, "CSafeLoader", None)  # libyaml, when PyYAML has it


if _CLoader is not None:

    class _FastLoader(_Strict, _CLoader):  # type: ignore[misc, valid-type]
        """libyaml's parser and composer with _FactLoader's resolvers and constructors; used
        only on text whose events `_plain` passed, so that it builds what _FactLoader builds,
        several times faster.
        """

    _FastLoader.yaml_implicit_resolvers = _FactLoader.yaml_implicit_resolvers
    _FastLoader.add_constructor("tag:yaml.org,2002:int", _Strict.construct_yaml_int)

_NODE_EVENTS = (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent,
                yaml.AliasEvent)
_OPENING_EVENTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)


def _plain(text: str) -> bool:
    """Whether libyaml may load the text: printable characters only, and an event stream (read
    one event at a time, no recursion) without anchors, aliases, tags or deep nesting.

    Anything else, broken YAML included, goes to _FactLoader, whose checks and messages are
    the reference.
    """
    if _CLoader is None or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return False
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_CLoader):
            if isinstance(event, _NODE_EVENTS):
                if depth >= MAX_DEPTH or isinstance(event, yaml.AliasEvent) or event.anchor:
                    return False
                if event.tag is not None:
                    return False
                depth += isinstance(event, _OPENING_EVENTS)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return False
    return True


def _compose(loader_class: type, text: str) -> tuple[object, yaml.Node | None]:
    """The document's node tree and the data built from it."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def load_yaml(text: str, shown: str) -> tuple[object, yaml.Node | None]:
    """The data of a fact file's text and its node tree (for line numbers), read safely:
    with libyaml when the text is plain, else with the pure-Python _FactLoader."""
    try:
        return _compose(_FastLoader if _plain(text) else _FactLoader, text)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, shown) from None


@dataclass(frozen=True)
class Located:
    """A record of a fact file with where it was written."""

    record: Record
    location: Location


@dataclass
class Corpus:
    """Everything the fact files say: entities, sources and their facts."""

    entities: dict[str, Located] = field(default_factory=dict)
    sources: dict[str, tuple[Source, Location]] = field(default_factory=dict)
    facts: dict[str, tuple[Located, str]] = field(default_factory=dict)
    names: list[Located] = field(default_factory=list)  # names for entities, in file order

    def source_of(self, fact_id: str) -> Source:
        """The source a fact comes from."""
        return self.sources[self.facts[fact_id][1]][0]


IdLine = tuple[str, int]  # a record's id and line
Reference = tuple[int, str, str, str]  # the record's place in its list, field, target, id


@dataclass(frozen=True)
class FileIndex:
    """What the checks across files need of one file: its ids and the line of each, and the
    ids its records refer to (entities' references, then facts'), in plain tuples (a build
    of ten thousand files reads them all from its cache)."""

    file: str
    entities: tuple[IdLine, ...] = ()
    source: IdLine | None = None
    facts: tuple[IdLine, ...] = ()
    entity_refs: tuple[Reference, ...] = ()
    fact_refs: tuple[Reference, ...] = ()
    names: tuple[IdLine, ...] = ()
    name_refs: tuple[Reference, ...] = ()

    def counts(self) -> tuple[int, int, int]:
        """Its sources, facts and entities."""
        return int(self.source is not None), len(self.facts), len(self.entities)

    def where(self, record: IdLine) -> Location:
        """Where a record of this file stands."""
        return Location(self.file, record[1], record[0])


@dataclass(frozen=True)
class ParsedFile:
    """One fact file checked against the schema: its records, each with where it stands."""

    entities: tuple[Located, ...] = ()
    source: Located | None = None
    facts: tuple[Located, ...] = ()
    names: tuple[Located, ...] = ()

    def index(self, file: str) -> FileIndex:
        """The ids and references of its records (the file as shown)."""
        return FileIndex(
            file, tuple(_record(e) for e in self.entities),
            _record(self.source) if self.source else None,
            tuple(_record(f) for f in self.facts),
            _references_of(self.entities), _references_of(self.facts),
            tuple(_record(n) for n in self.names), _references_of(self.names))

    def corpus(self) -> Corpus:
        """A corpus of this file alone (its references to other files unchecked)."""
        corpus = Corpus()
        _add_file(corpus, self)
        return corpus


def display_path(path: Path, root: Path) -> str:
    """The path of a fact file as users see it: relative to the seeds folder's parent."""
    try:
        return path.resolve().relative_to(root.resolve().parent).as_posix()
    except ValueError:
        return path.as_posix()


def fact_files(seeds: Path) -> list[Path]:
    """The fact files under a folder (or the one file given), in a stable order."""
    return [Path(path) for path, _ in _fact_files(seeds)]


def _fact_files(seeds: Path) -> list[tuple[str, bool]]:
    """fact_files as text, each with whether it is a symbolic link (at 100,000 files, making
    and comparing Path objects took more than a second of every build)."""
    if seeds.is_file():
        return [(str(seeds), seeds.is_symlink())]
    if not seeds.is_dir():
        raise InputError(f"no fact files: '{seeds}' is not a folder or a file")
    files = sorted(_yaml_files(str(seeds)), key=lambda found: found[0].split(os.sep))  # (as
    #   paths sort: by their parts)
    if not files:
        raise InputError(f"no fact files (*.yaml) under '{seeds}'")
    return files


def _yaml_files(folder: str, above: frozenset[tuple[int, int]] = frozenset()
                ) -> Iterator[tuple[str, bool]]:
    """The *.yaml and *.yml files under a folder, at any depth, with whether each is a
    symbolic link (os.scandir: Path.rglob takes a second over ten thousand files). A link
    back to a folder above it, or a fact file that cannot be opened, is bad input."""
    status = os.stat(folder)
    identity = (status.st_dev, status.st_ino)
    if identity in above:
        raise InputError("a symbolic link that loops back to a folder above it: remove it",
                         Location(Path(folder).as_posix()))
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                is_dir = entry.is_dir()
                is_file = not is_dir and entry.is_file()
                if not (is_dir or is_file or _YAML_NAME.search(entry.name) is None):
                    os.stat(entry.path)  # a broken link named as a fact file: say why
            except OSError as exc:
                raise InputError(f"cannot read: {exc.strerror or exc}",
                                 Location(entry.path)) from None
            if is_dir:
                yield from _yaml_files(entry.path, above | {identity})
            elif is_file and _YAML_NAME.search(entry.name):
                yield entry.path, entry.is_symlink()


_YAML_NAME = re.compile(r"\.ya?ml$")


def shown_files(seeds: Path) -> list[tuple[str, str]]:
    """The fact files with their paths as users see them (display_path, with each folder
    resolved once, and the rest joined as text: at 100,000 files, resolving each one, or
    joining Path objects, took seconds)."""
    root = seeds if seeds.is_dir() else seeds.parent
    base = root.resolve().parent
    folders: dict[str, str | None] = {}  # a folder as found: as shown (None: outside base)
    shown = []
    for path, link in _fact_files(seeds):
        if link:
            shown.append((path, display_path(Path(path), root)))
            continue
        folder, _, name = path.rpartition(os.sep)
        if folder not in folders:
            try:
                folders[folder] = Path(folder).resolve().relative_to(base).as_posix()
            except ValueError:
                folders[folder] = None
        inside = folders[folder]
        shown.append((path, Path(path).as_posix() if inside is None
                      else name if inside == "." else f"{inside}/{name}"))
    return shown


def load_corpus(seeds: Path) -> Corpus:
    """Read the registry of states and every fact file under `seeds`, check them and resolve
    every reference."""
    parsed: list[ParsedFile] = []

    def indexes() -> Iterator[FileIndex]:
        parsed.append(parse_fact_bytes(states_text(), STATES_FILE))
        yield parsed[-1].index(STATES_FILE)
        for path, shown in shown_files(seeds):
            parsed.append(parse_fact_file(path, shown))
            yield parsed[-1].index(shown)

    check_files(indexes())
    corpus = Corpus()
    for one in parsed:
        _add_file(corpus, one)
    return corpus


def parse_fact_file(path: str | Path, shown: str) -> ParsedFile:
    """Read and parse one file; errors name the file, line and record."""
    return parse_fact_bytes(read_fact_bytes(path, shown), shown)


def parse_fact_bytes(raw: bytes, shown: str) -> ParsedFile:
    """Parse one file's bytes into the schema; errors name the file, line and record."""
    text = _decode(raw, shown)
    data, node = load_yaml(text, shown)
    if node is not None and ("\\" in text or "\x85" in text):  # escapes, or a raw NEL
        _refuse_controls(node, (), node, shown)
    if node is None:
        raise InputError("empty file: write entities, or a source and its facts",
                         Location(shown, 1))
    if not isinstance(data, dict):
        raise InputError("a fact file is a mapping with entities, source and facts",
                         Location(shown, 1))
    try:
        fact_file = FactFile.model_validate(data)
    except ValidationError as exc:
        raise _schema_error(exc, node, shown) from None
    return _located(fact_file, node, shown)


def read_fact_bytes(path: str | Path, shown: str) -> bytes:
    """A fact file's bytes; one over the size limit is refused before it is read."""
    size = os.stat(path).st_size
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"file is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,}: split it by source",
            Location(shown),
        )
    with open(path, "rb") as file:
        return file.read()


def _decode(raw: bytes, shown: str) -> str:
    if b"\x00" in raw:
        raise InputError("binary file: a fact file is UTF-8 text (YAML)", Location(shown))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 (byte {exc.start}): save the file as UTF-8", Location(shown)
        ) from None


# Control characters (C0 but tab, line feed and carriage return; DEL; C1): XML 1.0 cannot
# hold most of them (the RDF/XML and GraphML exports would be ill-formed) and a terminal runs
# them. YAML's reader refuses them written raw; only escapes ("\0", "\x01", "\e") make them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _refuse_controls(node: yaml.Node, path: tuple, root: yaml.Node, shown: str) -> None:
    """A text (key or value) holding a control character is bad input, named by its file,
    line and record."""
    if isinstance(node, yaml.ScalarNode):
        found = _CONTROL.search(node.value)
        if found is not None:
            inside = path[2:] if path[:1] in (("entities",), ("facts",)) else path
            field = ".".join(p for p in inside if isinstance(p, str)) or "text"
            raise InputError(f"{field}: control character U+{ord(found[0]):04X} in the text: "
                             "remove it", Location(shown, node.start_mark.line + 1,
                                                   _record_id(root, path)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _refuse_controls(item, (*path, index), root, shown)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _refuse_controls(key, path, root, shown)
            _refuse_controls(value, (*path, key.value), root, shown)


def _yaml_error(exc: yaml.YAMLError, shown: str) -> InputError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if "could not determine a constructor" in problem:
        problem = "YAML tags (!!python/..., !tag) are not allowed in fact files"
    line = mark.line + 1 if mark is not None else None
    return InputError(problem if isinstance(exc, _Refused) else f"broken YAML: {problem}",
                      Location(shown, line))


def _node_at(node: yaml.Node, path: tuple) -> yaml.Node:
    """The deepest YAML node on a validation error's path (for its line number)."""
    for key in path:
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            child = next((v for k, v in node.value if k.value == key), None)
            if child is None:
                break
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                break
            node = node.value[key]
    return node


def _key_node(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if k.value == key:
                return k
    return None


def _record_id(node: yaml.Node, path: tuple) -> str | None:
    """The id of the entity or fact a path points into."""
    if len(path) >= 2 and path[0] in ("entities", "names", "facts") and isinstance(
            path[1], int):
        item = _node_at(node, path[:2])
        id_node = dict((k.value, v) for k, v in getattr(item, "value", []) if hasattr(k, "value"))
        value = getattr(id_node.get("id"), "value", None)
        return value if isinstance(value, str) else f"{path[0]}[{path[1] + 1}]"
    return None


def _schema_error(exc: ValidationError, node: yaml.Node, shown: str) -> InputError:
    errors = exc.errors(include_url=False)
    # A misspelt key also makes the right key missing: the misspelling is the useful news.
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(error["loc"])
    # Drop the union tags (Visit, State...) and pydantic's "[key]" marker from the path.
    data_path = tuple(
        p for p in loc if not (isinstance(p, str) and (p[:1].isupper() or p == "[key]"))
    )
    where = " > ".join(str(p) for p in data_path[2:] if not isinstance(p, int)) or None
    target = _node_at(node, data_path)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        key = str(loc[-1])
        target = _key_node(_node_at(node, data_path[:-1]), key) or target
        message = f"unknown key '{key}'" + did_you_mean(key, _allowed_keys(loc), True)
        where = None
    elif error["type"] == "missing":
        target = _node_at(node, data_path[:-1])
        message = f"missing required key '{loc[-1]}'"
        where = None
    elif error["type"] == "union_tag_invalid":
        ctx = error["ctx"]
        message = f"unknown type '{ctx['tag']}'" + did_you_mean(
            ctx["tag"], [t.strip(" '") for t in ctx["expected_tags"].split(",")], True)
    text = f"{where}: {message}" if where else message
    line = target.start_mark.line + 1
    return InputError(text, Location(shown, line, _record_id(node, data_path)))


def _model_classes(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models a field annotation can hold (through lists, unions, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _model_classes(args[0])
    if origin in (list, typing.Union, types.UnionType):
        return [m for a in args for m in _model_classes(a)]
    return []


def _allowed_keys(loc: tuple) -> list[str]:
    """The keys allowed where an unknown key stood, by walking the schema along its path."""
    models: list[type[BaseModel]] = [FactFile]
    for step in loc[:-1]:
        if isinstance(step, int):
            continue
        by_name = {m.__name__: m for m in models}
        if step in by_name:
            models = [by_name[step]]
            continue
        fields = [m.model_fields[step] for m in models if step in m.model_fields]
        models = [m for f in fields for m in _model_classes(f.annotation)]
    return sorted({name for m in models for name in m.model_fields})


def _located(fact_file: FactFile, node: yaml.Node, shown: str) -> ParsedFile:
    """The file's records, each with the line it starts on; none may still be a draft."""
    for section in ("entities", "facts"):
        for i, record in enumerate(getattr(fact_file, section)):
            if record.draft:
                raise InputError("still a draft (draft: true): review it, then delete the mark "
                                 "(kg draft --check lists them)",
                                 _location(node, (section, i), shown, record.id))
    source = fact_file.source
    return ParsedFile(
        tuple(Located(e, _location(node, ("entities", i), shown, e.id))
              for i, e in enumerate(fact_file.entities)),
        Located(source, _location(node, ("source",), shown, source.id)) if source else None,
        tuple(Located(f, _location(node, ("facts", i), shown, f.id))
              for i, f in enumerate(fact_file.facts)) if source else (),
        tuple(Located(n, _location(node, ("names", i), shown, n.id))
              for i, n in enumerate(fact_file.names)),
    )


def _add_file(corpus: Corpus, parsed: ParsedFile) -> None:
    for located in parsed.entities:
        corpus.entities[located.record.id] = located
    corpus.names.extend(parsed.names)
    if parsed.source is None:
        return
    source = typing.cast(Source, parsed.source.record)
    corpus.sources[source.id] = (source, parsed.source.location)
    for located in parsed.facts:
        corpus.facts[located.record.id] = (located, source.id)


def _location(node: yaml.Node, path: tuple, shown: str, record: str) -> Location:
    return Location(shown, _node_at(node, path).start_mark.line + 1, record)


def check_files(indexes: Iterable[FileIndex]) -> None:
    """The checks across files, in file order: no id used twice (entities and facts share
    ids; sources have their own), then every id a record uses names a known entity or fact."""
    ids: dict[str, tuple[FileIndex, IdLine]] = {}
    sources: dict[str, tuple[FileIndex, IdLine]] = {}
    entity_ids: set[str] = set()
    seen: list[FileIndex] = []
    for index in indexes:
        for record in index.entities:
            if record[0] in entity_ids:
                raise _entity_declared_again(ids[record[0]], index, record)
            _no_duplicate(ids, index, record)
            entity_ids.add(record[0])
        if index.source is not None:
            first, _ = sources.setdefault(index.source[0], (index, index.source))
            if first is not index:
                raise InputError(f"source id '{index.source[0]}' is also used in "
                                 f"{first.file}", index.where(index.source))
        for record in index.facts:
            _no_duplicate(ids, index, record)
        seen.append(index)
    known = {"entity": entity_ids, "fact": ids.keys() - entity_ids}
    for index in seen:
        _check_references(index, index.entities, index.entity_refs, known)
    for index in seen:
        _check_references(index, index.names, index.name_refs, known, names=True)
    for index in seen:
        _check_references(index, index.facts, index.fact_refs, known)


def _no_duplicate(ids: dict[str, tuple[FileIndex, IdLine]], index: FileIndex,
                  record: IdLine) -> None:
    earlier = ids.setdefault(record[0], (index, record))
    if earlier[0] is not index or earlier[1] is not record:
        raise InputError(
            f"duplicate id: '{record[0]}' is already used at {earlier[0].file}:"
            f"{earlier[1][1]}", index.where(record))


def _entity_declared_again(earlier: tuple[FileIndex, IdLine], index: FileIndex,
                           record: IdLine) -> InputError:
    """An entity declared twice: where the first one is, and how to add names to it."""
    first, (entity_id, line) = earlier
    where = ("in the registry of states (ISO 3166-1, from pycountry)"
             if first.file == STATES_FILE else f"at {first.file}:{line}")
    return InputError(
        f"entity '{entity_id}' is already declared {where}: to give it more names, write "
        f"them under 'names:' instead, e.g. names: [{{id: {entity_id}, aliases: {{en: "
        f"[Another Name]}}}}] (docs/fact-format.md, section 4.3)", index.where(record))


def _check_references(index: FileIndex, records: tuple[IdLine, ...],
                      refs: Iterable[Reference], known: Mapping[str, Collection[str]],
                      names: bool = False) -> None:
    for position, name, target, ref_id in refs:
        if ref_id not in known[target]:
            nearest = difflib.get_close_matches(ref_id, list(known[target]), n=3, cutoff=0.5)
            hint = f" (nearest: {', '.join(nearest)})" if nearest else ""
            message = (f"names: no entity '{ref_id}' to add names to; declare it under "
                       f"'entities:'{hint}" if names and name == "id"
                       else f"{name}: unknown {target} id '{ref_id}'{hint}")
            raise InputError(message, index.where(records[position]))


def _record(located: Located) -> IdLine:
    return located.record.id, typing.cast(int, located.location.line)


def _references_of(records: Iterable[Located]) -> tuple[Reference, ...]:
    return tuple((position, name, target, ref_id) for position, located in enumerate(records)
                 for name, target, ref_id in references(located.record)
                 if target in ("entity", "fact"))


def references(record: BaseModel) -> Iterator[tuple[str, str, str]]:
    """Every (field, target kind, id) a record refers to, read from the schema's Ref markers."""
    for name, ref in field_refs(type(record)):
        value = getattr(record, name)
        if ref is None or value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            yield name, ref.target, item


@functools.cache
def field_refs(model: type[BaseModel]) -> tuple[tuple[str, Ref | None], ...]:
    """Each field of a model with the Ref marker on it or inside its annotation, if any."""
    return tuple(
        (name, next((m for m in info.metadata if isinstance(m, Ref)), None)
         or item_ref(info.annotation))
        for name, info in model.model_fields.items())


def item_ref(annotation: object) -> Ref | None:
    """The Ref marker inside Optional[...] or list[...] annotations."""
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Annotated:
            found = next((m for m in arg.__metadata__ if isinstance(m, Ref)), None)
            if found:
                return found
        found = item_ref(arg)
        if found:
            return found
    return None


def entity_of(corpus: Corpus, entity_id: str) -> Entity:
    """The registry entity with this id."""
    return typing.cast(Entity, corpus.entities[entity_id].record)


def fact_of(corpus: Corpus, fact_id: str) -> Fact:
    """The fact with this id."""
    return typing.cast(Fact, corpus.facts[fact_id][0].record)

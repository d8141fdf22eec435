"""The W3C SPARQL 1.1 query results formats (JSON, CSV, XML) of a SELECT's rows or an ASK's
answer, written without rdflib's SPARQL package (its serializers live there, and importing it
takes ~0.1 s): byte for byte what rdflib's serializers write (tests/test_startup.py compares
them)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any
from xml.dom import XML_NAMESPACE
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesNSImpl

from rdflib.term import BNode, Literal, Node

from kg.query.engines import Solutions

SPARQL_RESULTS = "http://www.w3.org/2005/sparql-results#"


def _json_term(term: Node) -> dict[str, str]:
    if isinstance(term, Literal):
        written = {"type": "literal", "value": str(term)}
        if term.datatype is not None:
            written["datatype"] = str(term.datatype)
        if term.language is not None:
            written["xml:lang"] = term.language
        return written
    return {"type": "bnode" if isinstance(term, BNode) else "uri", "value": str(term)}


def _json(outcome: Solutions) -> bytes:
    written: dict[str, Any]
    if outcome.form == "ASK":
        written = {"head": {}, "boolean": bool(outcome.answer)}
    else:
        bindings = [{name: _json_term(term) for name, term in zip(outcome.variables, row,
                                                                    strict=True)
                     if term is not None} for row in outcome.rows]
        written = {"results": {"bindings": bindings}, "head": {"vars": list(outcome.variables)}}
    return json.dumps(written, allow_nan=False, ensure_ascii=False).encode("utf-8")


def _csv(outcome: Solutions) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=",")
    writer.writerow(outcome.variables)
    for row in outcome.rows:
        writer.writerow(["" if t is None else f"_:{t}" if isinstance(t, BNode) else t
                         for t in row])
    return text.getvalue().encode("utf-8")


class _XML:
    """rdflib's SPARQL results XML writer, call for call (xml.sax's XMLGenerator)."""

    def __init__(self) -> None:
        self.output = io.BytesIO()
        self.writer = XMLGenerator(self.output, "utf-8")
        self.writer.startDocument()
        self.writer.startPrefixMapping("", SPARQL_RESULTS)
        self.writer.startPrefixMapping("xml", XML_NAMESPACE)
        self.start("sparql")

    def start(self, name: str, attributes: dict[tuple[str | None, str], str] | None = None,
              qnames: dict[tuple[str | None, str], str] | None = None) -> None:
        self.writer.startElementNS((SPARQL_RESULTS, name), name,
                                   AttributesNSImpl(attributes or {}, qnames or {}))

    def end(self, name: str) -> None:
        self.writer.endElementNS((SPARQL_RESULTS, name), name)

    def element(self, name: str, text: str, attributes: dict | None = None,
                qnames: dict | None = None) -> None:
        self.start(name, attributes, qnames)
        self.writer.characters(text)
        self.end(name)

    def named(self, name: str, variable: str) -> None:
        self.start(name, {(None, "name"): variable}, {(None, "name"): "name"})

    def term(self, term: Node) -> None:
        if isinstance(term, Literal):
            if term.language:
                self.element("literal", term, {(XML_NAMESPACE, "lang"): term.language},
                             {(XML_NAMESPACE, "lang"): "xml:lang"})
            elif term.datatype:
                self.element("literal", term, {(None, "datatype"): term.datatype},
                             {(None, "datatype"): "datatype"})
            else:
                self.element("literal", term)
        else:
            self.element("bnode" if isinstance(term, BNode) else "uri", term)

    def close(self) -> bytes:
        self.end("sparql")
        self.writer.endDocument()
        return self.output.getvalue()


def _xml(outcome: Solutions) -> bytes:
    xml = _XML()
    xml.start("head")
    for name in outcome.variables if outcome.form == "SELECT" else ():
        xml.named("variable", name)
        xml.end("variable")
    xml.end("head")
    if outcome.form == "ASK":
        xml.element("boolean", str(bool(outcome.answer)).lower())
        return xml.close()
    xml.start("results")
    for row in outcome.rows:
        xml.start("result")
        for name, term in zip(outcome.variables, row, strict=True):
            if term is not None:
                xml.named("binding", name)
                xml.term(term)
                xml.end("binding")
        xml.end("result")
    xml.end("results")
    return xml.close()


WRITERS: dict[str, Callable[[Solutions], bytes]] = {"json": _json, "csv": _csv, "xml": _xml}


def results_text(outcome: Solutions, fmt: str) -> bytes:
    """A SELECT's or ASK's outcome in a W3C results format (json, csv or xml; csv only for a
    SELECT), ending with a newline."""
    text = WRITERS[fmt](outcome)
    return text if text.endswith(b"\n") else text + b"\n"

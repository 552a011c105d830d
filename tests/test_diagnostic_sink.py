"""The one way a stage reports: a `DiagnosticSink`."""

from rolegraph.compiler import codes
from rolegraph.compiler.diagnostics import DiagnosticSink, Severity
from rolegraph.compiler.source import Source

TEXT = "agent A() -> str {\n  w = Writer()\n}\n"


def test_a_sink_reports_in_order_with_its_file_and_severity_from_the_code():
    source = Source("a.agent", TEXT)
    sink = DiagnosticSink("a.agent", source)
    start = TEXT.index("Writer")
    first = sink.report(
        codes.UNDEFINED_NAME,
        "unknown role `Writer`",
        source.span(start, start + 6),
        "not a role",
        hints=("did you mean `Write`?",),
    )
    second = sink.report(codes.UNUSED_OUTPUT, "the output of `w` is never used", file="b.agent")
    assert sink.found == [first, second]
    assert first.file == "a.agent" and (first.line, first.column) == (2, 7)
    assert first.severity is Severity.ERROR and first.hints == ("did you mean `Write`?",)
    assert second.file == "b.agent" and second.severity is Severity.WARNING
    assert sink.has_errors
    text = sink.render()
    assert "a.agent:2:7" in text and "w = Writer()" in text and "^^^^^^" in text


def test_a_sink_may_share_the_list_of_its_caller():
    found: list = []
    sink = DiagnosticSink("a.agent", found=found)
    sink.report(codes.UNUSED_OUTPUT, "unused")
    assert len(found) == 1 and not sink.has_errors

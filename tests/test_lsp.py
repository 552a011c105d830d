"""The language server, driven by a real LSP client over stdio (pytest-lsp): every
feature on the examples, a file with errors, files with imports, and renames."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the language server needs the `lsp` extra")
pytest_lsp = pytest.importorskip("pytest_lsp", reason="the LSP tests need pytest-lsp")

from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

import rolegraph  # noqa: E402

from .conftest import EXAMPLES, ROOT  # noqa: E402
from .lsp_client import (  # noqa: E402
    apply_edits,
    change_document,
    close_document,
    offset_of,
    open_document,
    position_of,
    uri_of,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

SELF_REFINE = ROOT / "examples" / "self_refine.agent"
ROUTER = ROOT / "examples" / "role_router.agent"


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "rolegraph.cli", "lsp"]),
)
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"debounce": 0},
        )
    )
    yield
    await lsp_client.shutdown_session()


def _keys(diagnostics: list[types.Diagnostic]) -> list[tuple[str, int, int, int, int]]:
    return sorted(
        (
            str(d.code),
            d.range.start.line,
            d.range.start.character,
            d.range.end.line,
            d.range.end.character,
        )
        for d in diagnostics
        if d.code != "proven"
    )


def _check_keys(path: Path, text: str) -> list[tuple[str, int, int, int, int]]:
    """What `rolegraph check` reports for the text, as LSP lines and columns."""
    try:
        checked = rolegraph.check_source(text, str(path))
        found = [d for d in checked.diagnostics if d.file == str(path)]
    except rolegraph.DiagnosticError as error:
        found = list(error.diagnostics)
    return sorted(
        (d.code, d.span.line - 1, d.span.column - 1, d.span.end_line - 1, d.span.end_column - 1)
        for d in found
        if d.span is not None
    )


ERRORS = """\
type Review { ok: bool, feedback: str }

role Critic(task: str) -> Review {
  prompt "Review {{ tsk }}"
}

agent Broken(task: str) -> Review {
  critic = Critic(task)
  other = Critic(taks)
  return critic.okay
}
"""

LOOP = """\
type Review { ok: bool, feedback: str }

role Critic(task: str, feedback: str = "") -> Review {
  prompt "Review {{ task }} {{ feedback }}"
}

agent Loop(task: str) -> Review {
  first = Critic(task)
  second = Critic(task, feedback: first.feedback)
  second -> first(feedback: second.feedback) when not second.ok
  return second
}
"""


# -- diagnostics --------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
async def test_an_example_gets_the_diagnostics_of_check(client: LanguageClient, path: Path):
    diagnostics = await open_document(client, path)
    close_document(client, path)
    assert _keys(diagnostics) == _check_keys(path, path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "path", [p for p in EXAMPLES if "ensure " in p.read_text()], ids=lambda p: p.name
)
async def test_a_proven_constraint_is_reported_as_a_hint(client: LanguageClient, path: Path):
    diagnostics = await open_document(client, path)
    close_document(client, path)
    proofs = [d for d in diagnostics if d.code == "proven"]
    assert proofs and all(d.severity == types.DiagnosticSeverity.Hint for d in proofs)
    assert all("proven on every run" in d.message for d in proofs)


async def test_a_file_with_errors_gets_every_error_at_the_spans_of_check(client, tmp_path):
    path = tmp_path / "broken.agent"
    path.write_text(ERRORS)
    diagnostics = await open_document(client, path)
    assert _keys(diagnostics) == _check_keys(path, ERRORS)
    assert {"E0201", "E0301"} <= {str(d.code) for d in diagnostics} or len(diagnostics) >= 3
    assert any("did you mean `task`?" in d.message for d in diagnostics)


async def test_a_syntax_error_is_reported_as_the_parser_reports_it(client, tmp_path):
    path = tmp_path / "syntax.agent"
    text = SELF_REFINE.read_text().replace("critic -> return(writer)", "critic => return(writer)")
    path.write_text(text)
    diagnostics = await open_document(client, path)
    assert _keys(diagnostics) == _check_keys(path, text)
    assert [str(d.code) for d in diagnostics] == ["E0103"] or diagnostics[0].severity == 1


async def test_an_edit_is_checked_as_the_user_types(client, tmp_path):
    path = tmp_path / "typing.agent"
    text = SELF_REFINE.read_text()
    path.write_text(text)
    assert not [d for d in await open_document(client, path) if d.severity == 1]
    edited = text.replace("draft: writer)", "draft: writr)")
    diagnostics = await change_document(client, path, edited, 2)
    assert _keys(diagnostics) == _check_keys(path, edited)
    assert any("did you mean `writer`?" in d.message for d in diagnostics)


async def test_a_constraint_that_can_be_violated_warns_with_its_counterexample(client, tmp_path):
    path = tmp_path / "violated.agent"
    text = SELF_REFINE.read_text().replace(
        "ensure always(return -> once critic)", "ensure always(return -> once critic.ok)"
    )
    path.write_text(text)
    diagnostics = await open_document(client, path)
    assert _keys(diagnostics) == _check_keys(path, text)
    (warning,) = [d for d in diagnostics if d.code == "W0501"]
    assert warning.severity == types.DiagnosticSeverity.Warning
    assert "note: a run that violates it:" in warning.message


async def test_hover_on_a_violated_constraint_shows_the_counterexample(client, tmp_path):
    path = tmp_path / "violated_hover.agent"
    text = SELF_REFINE.read_text().replace(
        "ensure always(return -> once critic)", "ensure always(return -> once critic.ok)"
    )
    path.write_text(text)
    await open_document(client, path)
    shown = await _hover(client, path, "ensure always", 2)
    assert "**violated** by a run" in shown and "step 1: writer" in shown


# -- hover --------------------------------------------------------------------------------


async def _hover(client, path: Path, needle: str, shift: int = 0) -> str:
    text = path.read_text()
    result = await client.text_document_hover_async(
        types.HoverParams(
            types.TextDocumentIdentifier(uri_of(path)), position_of(text, needle, shift)
        )
    )
    assert result is not None
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


async def test_hover_on_a_node_shows_its_role_type_and_worst_case_calls(client):
    await open_document(client, SELF_REFINE)
    text = await _hover(client, SELF_REFINE, "writer = Writer", 1)
    assert 'calls `role Writer(task: str, feedback: str = "") -> Answer`' in text
    assert "output: `Answer`" in text
    assert "fires at most 4 times, 4 model calls" in text


async def test_hover_on_a_role_shows_its_signature(client):
    await open_document(client, SELF_REFINE)
    text = await _hover(client, SELF_REFINE, "Critic(task, draft", 2)
    assert "role Critic(task: str, draft: Answer) -> Review" in text


async def test_hover_on_a_type_shows_its_fields(client):
    await open_document(client, SELF_REFINE)
    text = await _hover(client, SELF_REFINE, "-> Review {", 5)
    assert "type Review { ok: bool, feedback: str }" in text


async def test_hover_on_a_constraint_shows_its_verdict(client):
    await open_document(client, SELF_REFINE)
    text = await _hover(client, SELF_REFINE, "ensure always", 2)
    assert "**proven** on every run" in text


REFUND = SELF_REFINE.with_name("refund_approval.agent")  # a human step, `Approve`


async def test_hover_on_a_human_step_and_its_node_shows_the_person_asked(client):
    await open_document(client, REFUND)
    declaration = await _hover(client, REFUND, "human Approve", 7)
    assert "human Approve(summary: str, amount: float) -> Approval" in declaration
    assert 'deadline "' in declaration
    node = await _hover(client, REFUND, "approval = Approve", 1)
    assert "output: `Approval`" in node


async def test_definition_of_a_human_step_call_is_its_declaration(client):
    await open_document(client, REFUND)
    text = REFUND.read_text()
    location = await _definition(client, REFUND, text, "approval = Approve", 12)
    assert location.range.start == position_of(text, "Approve(summary: str")


async def test_hover_on_a_template_variable_shows_the_parameter(client):
    await open_document(client, SELF_REFINE)
    text = await _hover(client, SELF_REFINE, "{{ draft.text }}", 4)
    assert "draft: Answer" in text and "parameter of role `Critic`" in text


async def test_hover_answers_from_the_last_parse_while_the_text_does_not_parse(client, tmp_path):
    path = tmp_path / "half.agent"
    text = SELF_REFINE.read_text()
    path.write_text(text)
    await open_document(client, path)
    broken = text.replace("  ensure", "  critic.\n  ensure")
    diagnostics = await change_document(client, path, broken, 2)
    assert diagnostics and diagnostics[0].severity == types.DiagnosticSeverity.Error
    result = await client.text_document_hover_async(
        types.HoverParams(
            types.TextDocumentIdentifier(uri_of(path)), position_of(broken, "ensure always", 2)
        )
    )
    assert result is not None and "proven" in result.contents.value  # type: ignore[union-attr]


# -- definition and references -----------------------------------------------------------


async def _definition(client, path: Path, text: str, needle: str, shift: int = 0) -> types.Location:
    result = await client.text_document_definition_async(
        types.DefinitionParams(
            types.TextDocumentIdentifier(uri_of(path)), position_of(text, needle, shift)
        )
    )
    assert isinstance(result, types.Location), result
    return result


async def test_definition_of_a_node_reference_is_the_node(client):
    await open_document(client, SELF_REFINE)
    text = SELF_REFINE.read_text()
    location = await _definition(client, SELF_REFINE, text, "draft: writer", 8)
    assert location.range.start == position_of(text, "writer = Writer")


async def test_definition_of_a_prompt_variable_is_the_parameter(client):
    await open_document(client, SELF_REFINE)
    text = SELF_REFINE.read_text()
    location = await _definition(client, SELF_REFINE, text, "{{ draft.text }}", 4)
    assert location.range.start == position_of(text, "draft: Answer")


async def test_definition_of_a_field_is_the_field_of_the_record(client):
    await open_document(client, SELF_REFINE)
    text = SELF_REFINE.read_text()
    location = await _definition(client, SELF_REFINE, text, "critic.feedback", 8)
    assert location.range.start == position_of(text, "feedback: str }")


async def test_definition_of_a_name_imported_from_the_stdlib_opens_that_module(client):
    await open_document(client, ROUTER)
    text = ROUTER.read_text()
    location = await _definition(client, ROUTER, text, "-> Answer", 4)
    assert location.uri == uri_of(ROOT / "stdlib" / "types.agent")
    stdlib_text = (ROOT / "stdlib" / "types.agent").read_text()
    assert location.range.start == position_of(stdlib_text, "Answer {")


def _project(tmp_path: Path) -> tuple[Path, Path]:
    roles = tmp_path / "roles.agent"
    roles.write_text(
        "type Note { text: str }\n\n"
        'role Scribe(topic: str) -> Note {\n  prompt "Write about {{ topic }}"\n}\n'
    )
    main = tmp_path / "main.agent"
    main.write_text(
        'import "./roles.agent" as roles\n\n'
        "agent Notes(topic: str) -> roles.Note {\n"
        "  scribe = roles.Scribe(topic)\n"
        "  return scribe\n"
        "}\n"
    )
    return main, roles


async def test_definition_across_a_file_import_opens_the_imported_file(client, tmp_path):
    main, roles = _project(tmp_path)
    assert not [d for d in await open_document(client, main) if d.severity == 1]
    text = main.read_text()
    location = await _definition(client, main, text, "roles.Scribe", 7)
    assert location.uri == uri_of(roles)
    assert location.range.start == position_of(roles.read_text(), "Scribe(")


async def test_definition_of_an_import_alias_is_the_imported_file(client, tmp_path):
    main, roles = _project(tmp_path)
    await open_document(client, main)
    location = await _definition(client, main, main.read_text(), "roles.Scribe", 1)
    assert location.uri == uri_of(roles)


async def test_references_of_a_node_are_its_declaration_and_every_use(client):
    await open_document(client, SELF_REFINE)
    text = SELF_REFINE.read_text()
    result = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri_of(SELF_REFINE)),
            position=position_of(text, "critic = Critic"),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert result is not None
    words = {text[offset_of(text, r.range.start) : offset_of(text, r.range.end)] for r in result}
    assert words == {"critic"}
    # the node, two edges from it, the port it binds, its guard, the constraint and the
    # test that expects `once critic`
    assert len(result) == 7


# -- completion ---------------------------------------------------------------------------


async def _complete(client, path: Path, text: str, needle: str) -> list[str]:
    await change_document(client, path, text, 2)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            types.TextDocumentIdentifier(uri_of(path)), position_of(text, needle, len(needle))
        )
    )
    assert result is not None
    items = result.items if isinstance(result, types.CompletionList) else result
    return [item.label for item in items]


async def test_completion_after_a_dot_lists_the_fields_of_the_node(client, tmp_path):
    path = tmp_path / "complete.agent"
    text = SELF_REFINE.read_text()
    await open_document(client, path, text)
    typing = text.replace("  ensure", "  critic -> writer when critic.\n  ensure")
    assert await _complete(client, path, typing, "when critic.") == ["ok", "feedback", "error"]


async def test_completion_inside_a_prompt_lists_the_fields_of_the_parameter(client, tmp_path):
    path = tmp_path / "prompt.agent"
    text = SELF_REFINE.read_text()
    await open_document(client, path, text)
    typing = text.replace("Draft: {{ draft.text }}", "Draft: {{ draft. }}")
    assert await _complete(client, path, typing, "{{ draft.") == ["text", "confidence"]


async def test_completion_inside_a_prompt_lists_the_parameters_of_the_role(client, tmp_path):
    path = tmp_path / "params.agent"
    text = SELF_REFINE.read_text()
    await open_document(client, path, text)
    typing = text.replace("Draft: {{ draft.text }}", "Draft: {{  }}")
    assert await _complete(client, path, typing, "Draft: {{ ") == ["task", "draft"]


async def test_completion_after_an_arrow_lists_the_edge_targets(client, tmp_path):
    path = tmp_path / "arrow.agent"
    text = SELF_REFINE.read_text()
    await open_document(client, path, text)
    typing = text.replace("  ensure", "  writer -> \n  ensure")
    assert await _complete(client, path, typing, "writer -> ") == ["writer", "critic", "return"]


async def test_completion_after_equals_lists_the_callables(client, tmp_path):
    path = tmp_path / "callee.agent"
    text = SELF_REFINE.read_text()
    await open_document(client, path, text)
    typing = text.replace("  ensure", "  third = \n  ensure")
    labels = await _complete(client, path, typing, "third = ")
    assert {"Writer", "Critic", "SelfRefine"} <= set(labels)


async def test_completion_at_the_top_level_lists_the_declaration_keywords(client, tmp_path):
    path = tmp_path / "top.agent"
    text = SELF_REFINE.read_text()
    await open_document(client, path, text)
    typing = text + "\nro"
    labels = await _complete(client, path, typing, "\nro")
    assert "role" in labels and "agent" in labels


# -- formatting, outline ------------------------------------------------------------------


async def test_formatting_gives_the_canonical_layout(client, tmp_path):
    path = tmp_path / "messy.agent"
    messy = (
        'type   Review{ok:bool,feedback:str}\nrole Critic(task:str)->Review{prompt "{{task}}"}\n'
    )
    await open_document(client, path, messy)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            types.TextDocumentIdentifier(uri_of(path)), types.FormattingOptions(2, True)
        )
    )
    assert edits is not None
    assert apply_edits(messy, edits) == rolegraph.format_source(messy)


async def test_document_symbols_outline_the_declarations_and_their_parts(client):
    await open_document(client, SELF_REFINE)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(types.TextDocumentIdentifier(uri_of(SELF_REFINE)))
    )
    assert symbols is not None
    names = [s.name for s in symbols]  # type: ignore[union-attr]
    assert names[:5] == ["fast", "Answer", "Review", "Writer", "Critic"]
    agent = next(s for s in symbols if s.name == "SelfRefine")  # type: ignore[union-attr]
    assert [c.name for c in agent.children or []][:3] == ["task", "writer", "critic"]


# -- rename -------------------------------------------------------------------------------


async def _rename(client, path: Path, text: str, needle: str, new_name: str, shift: int = 0):
    return await client.text_document_rename_async(
        types.RenameParams(
            text_document=types.TextDocumentIdentifier(uri_of(path)),
            position=position_of(text, needle, shift),
            new_name=new_name,
        )
    )


async def test_renaming_a_node_renames_every_use_and_the_program_still_checks(client, tmp_path):
    path = tmp_path / "rename.agent"
    text = SELF_REFINE.read_text()
    await open_document(client, path, text)
    edit = await _rename(client, path, text, "critic = Critic", "reviewer")
    assert edit is not None and edit.changes is not None
    renamed = apply_edits(text, edit.changes[uri_of(path)])
    agent = renamed[
        renamed.index("agent SelfRefine") : renamed.index(
            "\n}\n", renamed.index("agent SelfRefine")
        )
    ]
    assert "critic" not in agent and "critic = Critic" not in renamed
    assert "ensure always(return -> once reviewer)" in agent
    assert "expect always(return -> once reviewer)" in renamed
    assert not rolegraph.check_source(renamed, str(path)).errors


async def test_renaming_a_type_renames_its_uses_and_the_program_still_checks(client, tmp_path):
    path = tmp_path / "type.agent"
    text = SELF_REFINE.read_text()
    await open_document(client, path, text)
    edit = await _rename(client, path, text, "type Answer", "Draft", 5)
    assert edit is not None and edit.changes is not None
    renamed = apply_edits(text, edit.changes[uri_of(path)])
    assert "Answer" not in renamed
    assert not rolegraph.check_source(renamed, str(path)).errors


async def test_renaming_a_parameter_renames_it_inside_the_prompt(client, tmp_path):
    path = tmp_path / "param.agent"
    text = SELF_REFINE.read_text()
    await open_document(client, path, text)
    edit = await _rename(client, path, text, "draft: Answer", "attempt")
    assert edit is not None and edit.changes is not None
    renamed = apply_edits(text, edit.changes[uri_of(path)])
    assert "{{ attempt.text }}" in renamed and "attempt: writer" in renamed
    assert not rolegraph.check_source(renamed, str(path)).errors


async def test_renaming_a_role_renames_its_calls_mocks_and_the_program_still_checks(
    client, tmp_path
):
    path = tmp_path / "role.agent"
    text = SELF_REFINE.read_text()
    await open_document(client, path, text)
    edit = await _rename(client, path, text, "role Critic", "Reviewer", 5)
    assert edit is not None and edit.changes is not None
    renamed = apply_edits(text, edit.changes[uri_of(path)])
    assert "Critic" not in renamed
    assert "critic = Reviewer(task, draft: writer)" in renamed and "mock Reviewer [" in renamed
    assert not rolegraph.check_source(renamed, str(path)).errors


async def test_a_rename_that_would_break_the_program_is_refused(client, tmp_path):
    path = tmp_path / "clash.agent"
    text = SELF_REFINE.read_text()
    await open_document(client, path, text)
    with pytest.raises(Exception, match="breaks the program"):
        await _rename(client, path, text, "critic = Critic", "writer")


# -- code actions -------------------------------------------------------------------------


async def _fixes(client, path: Path, diagnostics: list[types.Diagnostic], code: str):
    wanted = [d for d in diagnostics if d.code == code]
    assert wanted, diagnostics
    return await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri_of(path)),
            range=wanted[0].range,
            context=types.CodeActionContext(diagnostics=wanted),
        )
    )


async def test_a_did_you_mean_hint_is_a_quick_fix(client, tmp_path):
    path = tmp_path / "typo.agent"
    text = SELF_REFINE.read_text().replace("draft: writer)", "draft: writr)")
    diagnostics = await open_document(client, path, text)
    actions = await _fixes(client, path, diagnostics, "E0201")
    assert actions
    action = actions[0]
    assert isinstance(action, types.CodeAction) and action.edit and action.edit.changes
    fixed = apply_edits(text, action.edit.changes[uri_of(path)])
    assert fixed == SELF_REFINE.read_text()


async def test_an_unbounded_cycle_gets_a_fix_that_adds_a_bound(client, tmp_path):
    path = tmp_path / "loop.agent"
    diagnostics = await open_document(client, path, LOOP)
    code = next(str(d.code) for d in diagnostics if "unbounded cycle" in d.message)
    actions = await _fixes(client, path, diagnostics, code)
    assert actions
    action = actions[0]
    assert isinstance(action, types.CodeAction) and action.edit and action.edit.changes
    fixed = apply_edits(LOOP, action.edit.changes[uri_of(path)])
    assert "when not second.ok max 3" in fixed
    assert not rolegraph.check_source(fixed, str(path)).errors

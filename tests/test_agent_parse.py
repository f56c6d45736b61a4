"""appwright/agent/parse.py: tool calls and file blocks out of model text, never an exception."""

import pytest

from appwright.agent.parse import ToolCall, parse_reply


def test_qwen_tool_call():
    r = parse_reply('I will look first.\n<tool_call>\n{"name": "read_file", "arguments": {"path": "app.json"}}\n</tool_call>')
    assert r.tool_calls == [ToolCall(name="read_file", arguments={"path": "app.json"})]
    assert r.text == "I will look first."
    assert r.problems == []


def test_several_calls_in_order():
    r = parse_reply('<tool_call>{"name": "list_files", "arguments": {}}</tool_call>\n'
                    '<tool_call>{"name": "finish", "arguments": {"summary": "done"}}</tool_call>')
    assert [c.name for c in r.tool_calls] == ["list_files", "finish"]
    assert r.tool_calls[1].arguments == {"summary": "done"}


def test_unclosed_tag_at_end():
    r = parse_reply('<tool_call>{"name": "check_app", "arguments": {}}')
    assert r.tool_calls == [ToolCall(name="check_app")]


@pytest.mark.parametrize("body", [
    "{'name': 'write_file', 'arguments': {'path': 'a.js', 'content': 'it\\'s \"x\"'}}",  # single quotes
    '{"name": "write_file", "arguments": {"path": "a.js", "content": "it\'s \\"x\\"",},}',  # trailing commas
    '{"name": "write_file", "arguments": {"path": "a.js", "content": "it\'s \\"x\\""}',  # a brace short at the end
    '{"name": "write_file", "arguments": "{\\"path\\": \\"a.js\\", \\"content\\": \\"it\'s \\\\\\"x\\\\\\"\\"}"}',  # args as string
])
def test_repairs(body):
    r = parse_reply(f"<tool_call>{body}</tool_call>")
    assert r.problems == []
    assert r.tool_calls == [ToolCall(name="write_file", arguments={"path": "a.js", "content": "it's \"x\""})]


def test_raw_newlines_inside_json_strings():
    r = parse_reply('<tool_call>{"name": "write_file", "arguments": {"path": "a.js", "content": "a\n  b"}}</tool_call>')
    assert r.tool_calls[0].arguments["content"] == "a\n  b"


def test_repair_leaves_commas_and_quotes_inside_strings_alone():
    r = parse_reply('<tool_call>{"name": "write_file", "arguments": {"path": "a", "content": "[1,] \'q\' True"},}</tool_call>')
    assert r.tool_calls[0].arguments["content"] == "[1,] 'q' True"


def test_fenced_json_call_when_no_tag():
    r = parse_reply('Sure:\n```json\n{"name": "list_files", "arguments": {}}\n```')
    assert r.tool_calls == [ToolCall(name="list_files")]
    assert r.text == "Sure:"


def test_fenced_json_that_is_not_a_call_is_ignored():
    r = parse_reply('```json\n{"title": "x"}\n```')
    assert r.tool_calls == [] and r.problems == []


@pytest.mark.parametrize("text,needle", [
    ('<tool_call>{"name": "write_file", "arguments": {"path": "a", "content": "cut off he', "not closed"),
    ("<tool_call>not json at all</tool_call>", "could not read"),
    ('<tool_call>{"arguments": {}}</tool_call>', '"name"'),
    ('<tool_call>{"name": "x", "arguments": [1]}</tool_call>', "must be a JSON object"),
    ("<tool_call></tool_call>", "empty"),
])
def test_broken_calls_become_problems(text, needle):
    r = parse_reply(text)
    assert r.tool_calls == []
    assert len(r.problems) == 1 and needle in r.problems[0], r.problems


def test_file_blocks():
    r = parse_reply('<file path="app.json">\n{"name": "x"}\n</file>\n<file path="index.html">\n<p>hi</p>\n</file>\n'
                    "A tiny app.")
    assert [(f.path, f.content, f.closed) for f in r.files] == [
        ("app.json", '{"name": "x"}\n', True), ("index.html", "<p>hi</p>\n", True)]
    assert r.text == "A tiny app."
    assert r.problems == []


@pytest.mark.parametrize("open_tag", ["<file path='a.js'>", "<file path=a.js>", '<file path = "a.js" >',
                                      '<FILE path="a.js">', '<file name="a.js">'])
def test_file_path_quote_variations(open_tag):
    r = parse_reply(f"{open_tag}\nlet x = 1;\n</file>")
    assert [(f.path, f.content) for f in r.files] == [("a.js", "let x = 1;\n")]


def test_fence_inside_file_block_is_removed():
    r = parse_reply('<file path="index.html">\n```html\n<p>hi</p>\n```\n</file>')
    assert r.files[0].content == "<p>hi</p>\n"


def test_json_fence_inside_file_is_content_not_a_call():
    r = parse_reply('<file path="README.md">\n```json\n{"name": "x", "arguments": {}}\n```\nmore\n</file>')
    assert r.tool_calls == []
    assert r.files[0].content.startswith("```json")


def test_unclosed_last_block_is_kept_and_reported():
    r = parse_reply('<file path="app.json">\n{"name": "x"}\n</file>\n<file path="index.html">\n```html\n<p>cut')
    assert [f.path for f in r.files] == ["app.json", "index.html"]
    assert r.files[1].closed is False and r.files[1].content == "```html\n<p>cut\n"
    assert len(r.problems) == 1 and "cut off" in r.problems[0]


def test_block_without_close_before_next_block():
    r = parse_reply('<file path="a.js">\nlet a;\n<file path="b.js">\nlet b;\n</file>')
    assert [(f.path, f.content, f.closed) for f in r.files] == [("a.js", "let a;\n", False), ("b.js", "let b;\n", True)]
    assert "a.js" in r.problems[0]


def test_garbage_never_raises():
    for text in ["", "<tool_call>", "<file path=''></file>", "<tool_call>{'a': [}</tool_call>",
                 "<tool_call>" + "[" * 5000 + "</tool_call>", "```json\n{\"name\": 5}\n```", "\x00<file path=\"x\">"]:
        parse_reply(text)


def test_a_file_started_again_and_cut_off_does_not_replace_the_complete_one():
    reply = ('<file path="index.html">\n<p>good draft</p>\n</file>\nNow the page again:\n'
             '<file path="index.html">\n<p>runaway, cut off')
    parsed = parse_reply(reply)
    assert [(f.path, f.content, f.closed) for f in parsed.files] == [("index.html", "<p>good draft</p>\n", True)]
    assert any("started again" in p for p in parsed.problems)


def test_a_file_written_twice_and_closed_both_times_keeps_the_later_one():
    parsed = parse_reply('<file path="a.js">\nold\n</file>\n<file path="a.js">\nnew\n</file>')
    assert [f.content for f in parsed.files] == ["new\n"]

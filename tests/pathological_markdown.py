"""Pathological Markdown: what the audit sent, and the pathological cases of cmark's own
test suite (test/pathological_tests.py), each cut to the longest text a person may write.

Shared by tests/test_markdown_limits.py and bench/markdown_corpus.py.
"""

from engage.ideas.models import BODY_MAX

LIMIT = BODY_MAX


def _cut(text: str) -> str:
    return text[:LIMIT]


CORPUS = {
    name: _cut(text)
    for name, text in {
        # Reported by the audit: nested list markers, bracket runs.
        "nested list markers on one line": "- " * 2000 + "x",
        "nested list markers, one a line": "".join("  " * i + "- x\n" for i in range(300)),
        "nested numbered lists": "".join("   " * i + "1. x\n" for i in range(300)),
        "nested block quotes": "> " * 5000 + "x",
        "block quotes and lists": "> - " * 2500 + "x",
        "bracket run": "[" * LIMIT,
        "bracket and space run": "[ " * 5000,
        "image openers": "![" * 5000,
        "link openers": "[a](" * 2500,
        "unclosed link destinations": "[a](<b" * 2000,
        "unclosed links": "[a](b" * 2000,
        "link titles never closed": '[a](b "' * 1500,
        "open parentheses": "(" * LIMIT,
        "parenthesised link": "[a](" + "(" * 9000,
        "nested brackets": "[" * 4999 + "a" + "]" * 5000,
        # After cmark's test/pathological_tests.py.
        "nested strong emphasis": "*a **a " * 700 + "b" + " a** a*" * 700,
        "emphasis closers without openers": "a_ " * 3333,
        "emphasis openers without closers": "_a " * 3333,
        "triple emphasis openers": "a***" * 2500,
        "mismatched openers and closers": "*a_ " * 2500,
        "openers and closers multiple of 3": "a**b" + "c* " * 3300,
        "link openers and emphasis closers": "[ a_" * 2500,
        "pattern [ (]( repeated": "[ (](" * 2000,
        "pattern ![[]() repeated": "![[]()" * 1666,
        "backtick runs of growing length": "".join("e" + "`" * n for n in range(1, 140)),
        "backtick pairs": "`a" * 5000,
        "many references": "".join(f"[{n}]: u\n" for n in range(1, 1000)) + "[0] " * 100,
        "reference definitions without end": "[a]: " * 2000,
        "tables of pipes": "|" * LIMIT,
        "carriage returns and vertical tabs": "aaa\rbbb\n-\v\n" * 900,
        "angle brackets": "<" * LIMIT,
        "autolink openers": "<http://" * 1250,
        "tags": "<a>" * 3333,
        "entities": "&" * LIMIT,
        "numeric entities": "&#" * 5000,
        "backslashes": "\\" * LIMIT,
        "heading markers": "#" * LIMIT,
        "setext underline run": "a\n" + "=" * 9000,
        "emphasis runs": "*a " * 3333,
        "strong runs": "**a " * 2500,
        "underscores": "_" * LIMIT,
        "stars": "*" * LIMIT,
        "bare URLs": "http://a.b " * 900,
        "www runs": "www." * 2500,
        "e-mail lookalikes": "a@b." * 2500,
        "long URL": "http://" + "a" * 9990,
        "URL with parentheses": "http://a.b/" + "(" * 4000 + ")" * 4000,
        "indented code": "    x\n" * 1666,
        "fence openers": "```\n" * 2500,
        "html blocks": "<div>\n" * 1666,
        "deeply nested html": "<blockquote>" * 800,
        "controls": "abc\u0001de\u001f\u007f" * 1000,
        "zero-width and bidi": "a\u200b\u202e\u2066b" * 2000,
        "combining marks": "a" + "\u0301" * 9999,
    }.items()
}

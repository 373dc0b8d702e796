"""Benchmark: rendering time of each pathological Markdown text (tests/pathological_markdown.py).

Every text must render (or be refused as too complex, which is measured too) in under
100 ms on one core. Prints each item's best time of five; exits 1 if any is over the
budget. Usage: python bench/markdown_corpus.py
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from pathological_markdown import CORPUS  # noqa: E402

from engage.text import MarkdownTooComplex, render_markdown, render_markdown_or_text  # noqa: E402

BUDGET_MS = 100.0
RUNS = 5


def render(source: str) -> str:
    """What writing a text costs: the rendering, or the refusal and the fallback."""
    try:
        return f"rendered, {len(render_markdown(source)):,} characters"
    except MarkdownTooComplex as error:
        render_markdown_or_text(source)
        return f"refused ({error.limit})"


def best_of(source: str) -> tuple[float, str]:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        outcome = render(source)
        timings.append((time.perf_counter() - started) * 1000)
    return min(timings), outcome


def main() -> int:
    worst = 0.0
    print(f"{'text':40} {'ms':>7}  outcome")
    for name, source in CORPUS.items():
        elapsed, outcome = best_of(source)
        worst = max(worst, elapsed)
        flag = "  OVER BUDGET" if elapsed >= BUDGET_MS else ""
        print(f"{name:40} {elapsed:7.1f}  {outcome}{flag}")
    print(f"\n{len(CORPUS)} texts; slowest {worst:.1f} ms (budget {BUDGET_MS:.0f} ms)")
    return 0 if worst < BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())

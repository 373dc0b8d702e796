"""The French and Spanish catalogues are complete, current and safe to format."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def catalogue(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def msgids(cat) -> set:
    return {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in cat
        if message.id
    }


@pytest.fixture(scope="module")
def fresh_template(tmp_path_factory):
    """Extract the strings of the code as it is now, as `make translations-extract` does."""
    output = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "--no-location",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            # Babel skips directories whose names start with "_" unless told otherwise:
            # templates/_macros holds strings too.
            "--ignore-dirs",
            ".*",
            "-o",
            str(output),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return catalogue(output)


def test_committed_template_lists_every_string_of_the_code(fresh_template):
    committed = catalogue(ROOT / "translations" / "messages.pot")

    assert msgids(fresh_template) == msgids(committed), "run make translations-update"


@pytest.mark.parametrize("language", ["fr", "es"])
def test_catalogue_translates_every_string(fresh_template, language):
    cat = catalogue(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po")
    translated = {
        (message.id if isinstance(message.id, str) else message.id[0])
        for message in cat
        if message.id
        and not message.fuzzy
        and (all(message.string) if isinstance(message.string, tuple) else message.string)
    }

    assert msgids(fresh_template) - translated == set()


@pytest.mark.parametrize("language", ["fr", "es"])
def test_translations_keep_the_placeholders_of_their_source(language):
    cat = catalogue(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po")
    broken = []
    for message in cat:
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set().union(*(PLACEHOLDER.findall(s) for s in sources))
        for target in targets:
            if target and set(PLACEHOLDER.findall(target)) - expected:
                broken.append(message.id)
            if (
                target
                and not isinstance(message.id, tuple)
                and (set(PLACEHOLDER.findall(target)) != expected)
            ):
                broken.append(message.id)
    assert broken == []

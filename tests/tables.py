"""Expected lifecycle tables, written out by hand in the tests that use them, so that a
wrong table in the code cannot pass by being compared with itself."""


def transition_table(text: str) -> dict[tuple[str, str], str | None]:
    """Read a table whose first line names the actions and each further line starts with
    a state, then gives the state each action leads to ("-": refused).

    Returns {(state, action): target or None}.
    """
    header, *rows = [line.split() for line in text.strip().splitlines()]
    table = {}
    for state, *targets in rows:
        assert len(targets) == len(header), f"row {state} has {len(targets)} cells"
        for action, target in zip(header, targets, strict=True):
            table[state, action] = None if target == "-" else target
    return table


def states_and_actions(table: dict) -> tuple[set[str], set[str]]:
    return {state for state, _ in table}, {action for _, action in table}


def first_source(table: dict, action: str) -> str:
    """A state from which `action` is allowed."""
    return next(state for (state, each), target in table.items() if each == action and target)

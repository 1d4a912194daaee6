"""The one key map and the `?` help drawn from it."""

from orderbook_cli.views.keys import (
    BOARD_ACTIONS,
    HELP,
    KEYMAP,
    LADDER_ACTIONS,
    REPLAY_ACTIONS,
    TAPE_ACTIONS,
    bound_keys,
    help_keys,
    keys_text,
)


def test_help_lists_every_bound_key():
    shown = keys_text(LADDER_ACTIONS | REPLAY_ACTIONS | TAPE_ACTIONS)
    for key, name in KEYMAP.items():
        for label in bound_keys(name):
            assert label in shown, (key, name, shown)
    assert "t tape" in shown and "Esc hide level" in shown, shown
    assert all(any(name in actions for _, actions in HELP) for name in KEYMAP.values())  # every action has its entry


def test_help_lists_only_what_the_screen_offers():
    board = " · ".join(help_keys(BOARD_ACTIONS))
    assert "t tape" not in board and "v view" not in board and "q quit" in board, board
    assert "t tape" not in " · ".join(help_keys(LADDER_ACTIONS))

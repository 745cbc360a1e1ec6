"""Helpers for driving the chat app with Pilot."""

from __future__ import annotations


async def wait_for(pilot, predicate, timeout: float = 60.0, step: float = 0.05) -> None:
    """Let the app run until ``predicate()`` holds (workers run in threads)."""
    waited = 0.0
    while not predicate():
        if waited >= timeout:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {predicate.__doc__ or predicate}")
        await pilot.pause(step)
        waited += step
    await pilot.pause()


async def type_text(pilot, text: str) -> None:
    """Type ``text`` into the focused widget: the key events of ``pilot.press(*text)``, sent the same way,
    but without Pilot's wait for the process to go idle after each key (two sleeps of 20 ms or more a
    key, most of these tests' time); the screen has handled every key when it returns."""
    import textual.app

    async def no_wait(*args, **kwargs) -> None:
        return None

    wait = textual.app.wait_for_idle  # used by App._press_keys only
    textual.app.wait_for_idle = no_wait
    try:
        await pilot.press(*text)
    finally:
        textual.app.wait_for_idle = wait
    await pilot.pause()


def answered(app, n: int):
    def check() -> bool:
        """n answer cards done"""
        from qa.tui.widgets.conversation_view import AnswerCard

        cards = list(app.query(AnswerCard))
        return len(cards) >= n and all(c.result is not None or c.error is not None for c in cards[:n])

    return check


def no_blink(app) -> None:
    from textual.widgets import Input, TextArea

    for widget in app.query(Input):
        widget.cursor_blink = False
    for widget in app.query(TextArea):
        widget.cursor_blink = False


def screen_lines(app) -> list[str]:
    """The screen as the terminal shows it, as plain text: one string per row."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True,
                      legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text(styles=False).split("\n")[:height]


def text_in(lines: list[str], region) -> list[str]:
    """The text of ``lines`` (``screen_lines``) inside ``region`` (screen coordinates)."""
    return [line[region.x : region.right] for line in lines[region.y : region.bottom]]

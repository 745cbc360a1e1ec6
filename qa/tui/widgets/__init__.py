"""Widgets of the chat app, one module per area of the screen."""

from __future__ import annotations

"""The exception that ends a step: a property (or the model) says the contract is wrong."""

from __future__ import annotations


class PropertyFailure(Exception):
    """`name` is the property (docs/fuzzing-engine.md) or `model-disagreement:<function>`."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"{name}: {detail}")
        self.name = name
        self.detail = detail

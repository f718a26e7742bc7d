"""YAML read strictly: a mapping with a duplicated key is an error, not last-one-wins.

``load_yaml(text_or_stream)`` is ``yaml.safe_load`` with that one rule; the error is a
``yaml.constructor.ConstructorError`` whose ``problem`` names the key and whose ``problem_mark``
is the line of its second occurrence, so callers' "not valid YAML at line N (...)" messages apply.
"""
from __future__ import annotations

import yaml
from yaml.constructor import ConstructorError


class StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses a duplicated key in any mapping."""

    def construct_mapping(self, node, deep=False):
        """The mapping of ``node``; ConstructorError at the second occurrence of a key."""
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: let PyYAML report it
                break
            if duplicate:
                raise ConstructorError("while reading a mapping", node.start_mark,
                                       f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(stream):
    """Parse YAML text or a stream like ``yaml.safe_load``, refusing duplicated keys."""
    return yaml.load(stream, Loader=StrictLoader)

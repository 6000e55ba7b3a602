"""The labels people read: 中文 and English for every state, trigger, role and policy term.

A public view of the one glossary table the engine, the CLI, the reports and the docs take their labels
from; scripts and reports use it to print the same words::

    from hazardflow.glossary import zh, en
    zh("state", "rectifying")  # '整改中'
    en("trigger", "approve")   # 'approve and close'
"""

from __future__ import annotations

from ._glossary import Term, describe, en, has_label, terms, zh

__all__ = ["Term", "describe", "en", "has_label", "terms", "zh"]

"""genotutor: interpreting genomic deep-learning models, the package behind the book.

Every public function names the chapter of the book that teaches it.
"""

from __future__ import annotations

__version__ = "0.1.0"

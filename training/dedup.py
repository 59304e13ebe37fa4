"""Near-duplicate detection: MinHash with banding, candidates verified by exact Jaccard.

Therapists on counsel-chat paste the same answer under several questions; kept, those
copies teach one stock reply and leak between the splits. Texts are compared as sets of
word 3-grams; hashing is deterministic (blake2b), so the result does not depend on
PYTHONHASHSEED.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+")
_PRIME = (1 << 31) - 1
_NUM_PERM = 64
_BANDS = 16


def shingles(text: str, n: int = 3) -> frozenset[str]:
    """Lower-cased word n-grams; a text shorter than n words is one shingle."""
    words = _WORD.findall(text.casefold())
    if len(words) < n:
        return frozenset({" ".join(words)})
    return frozenset(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def near_duplicate_indices(texts: Sequence[str], *, threshold: float = 0.8) -> list[int]:
    """Indices of the texts to keep: the first of each group of near-duplicates.

    A text is dropped when its word 3-gram Jaccard similarity with an earlier kept text
    is at least `threshold`.
    """
    sets = [shingles(text) for text in texts]
    signatures = _signatures(sets)
    rows = _NUM_PERM // _BANDS
    buckets: dict[tuple[int, bytes], list[int]] = {}
    keep: list[int] = []
    for index, signature in enumerate(signatures):
        candidates: set[int] = set()
        keys = [(band, signature[band * rows : (band + 1) * rows].tobytes()) for band in range(_BANDS)]
        for key in keys:
            candidates.update(buckets.get(key, ()))
        if any(jaccard(sets[index], sets[other]) >= threshold for other in sorted(candidates)):
            continue
        keep.append(index)
        for key in keys:
            buckets.setdefault(key, []).append(index)
    return keep


def _signatures(sets: Sequence[frozenset[str]]) -> np.ndarray:
    generator = np.random.default_rng(0x5EED)
    a = generator.integers(1, _PRIME, size=_NUM_PERM, dtype=np.uint64)
    b = generator.integers(0, _PRIME, size=_NUM_PERM, dtype=np.uint64)
    out = np.empty((len(sets), _NUM_PERM), dtype=np.uint64)
    for row, items in enumerate(sets):
        hashes = np.fromiter(
            (int.from_bytes(hashlib.blake2b(item.encode(), digest_size=4).digest(), "big") for item in items),
            dtype=np.uint64,
            count=len(items),
        )
        permuted = (hashes[:, None] * a[None, :] + b[None, :]) % _PRIME
        out[row] = permuted.min(axis=0)
    return out

"""Full-content fingerprints of datasets, for cache keys.

Streamlit's own hashing samples arrays of 500,000 elements or more, so two different
EEG arrays can collide; these fingerprints hash every byte.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd


def fingerprint(obj: Any) -> str:
    """BLAKE2b hex digest of the whole content of an array, table, recording or dataset.

    Parameters
    ----------
    obj : ndarray, DataFrame, mne.io.BaseRaw, dataset dataclass, str, bytes, or a tuple/list of those
        What to hash. A dataset is hashed through its data (``frame``, ``raw``, ``matrices``,
        ``trials``), its labels, name and source.

    Returns
    -------
    str
        64 hexadecimal characters; equal for equal content, dtype and shape.
    """
    h = hashlib.blake2b(digest_size=32)
    _update(h, obj)
    return h.hexdigest()


def _update(h: hashlib._Hash, obj: Any) -> None:
    if isinstance(obj, np.ndarray):
        h.update(f"ndarray{obj.dtype.str}{obj.shape}".encode())
        if obj.dtype == object:
            h.update(repr(obj.tolist()).encode())
        else:
            h.update(np.ascontiguousarray(obj).data)
    elif isinstance(obj, pd.DataFrame):
        h.update(repr(list(map(str, obj.columns))).encode())
        h.update(pd.util.hash_pandas_object(obj, index=True).to_numpy().tobytes())
    elif isinstance(obj, (bytes, bytearray)):
        h.update(b"bytes")
        h.update(obj)
    elif isinstance(obj, str):
        h.update(b"str")
        h.update(obj.encode("utf-8", "surrogatepass"))
    elif isinstance(obj, (tuple, list)):
        h.update(f"seq{len(obj)}".encode())
        for item in obj:
            _update(h, item)
    elif hasattr(obj, "get_data") and hasattr(obj, "info"):
        _update(h, (list(obj.ch_names), str(obj.info["sfreq"]), obj.get_data()))
        annotations = obj.annotations
        _update(h, (np.asarray(annotations.onset), list(annotations.description)))
    elif hasattr(obj, "__dataclass_fields__"):
        for name in ("name", "source", "frame", "raw", "matrices", "trials", "labels"):
            value = getattr(obj, name, None)
            if value is not None:
                _update(h, (name, value))
    else:
        h.update(repr(obj).encode())

"""The ``categorize`` filter: strings from a known set of labels stored as small integers.

Encoding (numcodecs' ``categorize``): the value equal to ``labels[i]`` becomes ``i + 1``,
anything else ``0``; decoding turns ``i + 1`` back into ``labels[i]`` and everything else
into ``''``. The output is flat, like numcodecs'.
"""
from __future__ import annotations

from itertools import repeat
from typing import Any, ClassVar, Sequence

import numpy as np

from .abc import Codec
from .registry import register_codec

__all__ = ["Categorize"]


def _text(label: Any) -> str:
    if isinstance(label, str):
        return str(label)
    if isinstance(label, (bytes, bytearray, memoryview, np.ndarray)):
        return bytes(label).decode("utf-8")
    raise TypeError(f"labels must be strings, got {type(label).__name__}")


class Categorize(Codec):
    """Encode categorical string data as integer codes.

    Parameters
    ----------
    labels : sequence of str
        The category labels; ``labels[i]`` is stored as ``i + 1``, values not among the
        labels as ``0`` (decoded as ``''``).
    dtype : dtype-like
        Data type of the decoded data: object (``'|O'``) or unicode (``'<U…'``).
    astype : dtype-like
        Integer data type of the encoded codes (default ``'u1'``).

    Examples
    --------
    >>> import numpy as np
    >>> codec = Categorize(labels=["female", "male"], dtype=object)
    >>> codec.encode(np.array(["male", "female", "other"], dtype=object))
    array([2, 1, 0], dtype=uint8)
    """

    codec_id: ClassVar[str] = "categorize"
    kind: ClassVar[str] = "object"

    def __init__(self, labels: Sequence[Any], dtype: Any, astype: Any = "u1") -> None:
        self.dtype = np.dtype(dtype)
        if self.dtype.kind not in "UO":
            raise TypeError("Categorize supports only unicode ('U') and object ('O') dtypes")
        self.astype = np.dtype(astype)
        if self.astype == np.dtype(object):
            raise TypeError("Categorize cannot encode to an object array")
        if isinstance(labels, (str, bytes)):
            raise TypeError("labels must be a sequence of strings, not a single string")
        self.labels = [_text(label) for label in labels]

    # -- helpers ------------------------------------------------------------------------
    def _as_values(self, buf: Any) -> np.ndarray:
        if isinstance(buf, np.ndarray) and buf.dtype.kind in "UOT":
            arr = buf
        elif isinstance(buf, np.ndarray) or not isinstance(buf, (list, tuple, str)):
            # raw bytes of the decoded dtype (as numcodecs: a view)
            arr = np.frombuffer(buf, dtype=np.uint8) if not isinstance(buf, np.ndarray) else buf
            arr = arr.view(self.dtype)
        else:
            arr = np.asarray(buf, dtype=self.dtype)
        return arr.reshape(-1, order="A")

    # -- codec ----------------------------------------------------------------------------
    def encode(self, buf: Any) -> np.ndarray:
        """Return the flat integer codes of the values in ``buf``."""
        arr = self._as_values(buf)
        if self.astype.kind in "iu" and len(self.labels) > np.iinfo(self.astype).max:
            raise ValueError(f"{len(self.labels)} labels do not fit the code type {self.astype}")
        codes = {label: i + 1 for i, label in enumerate(self.labels)}  # later duplicates win
        if arr.dtype == object:
            try:
                found = list(map(codes.get, arr.tolist(), repeat(0)))
                return np.array(found, dtype=self.astype).reshape(arr.shape)
            except TypeError:  # unhashable values: compare label by label instead
                pass
        enc = np.zeros(arr.shape, dtype=self.astype)
        for label, code in codes.items():
            enc[arr == label] = code
        return enc

    def decode(self, buf: Any, out: np.ndarray | None = None) -> np.ndarray:
        """Return the flat values of the codes in ``buf`` (or fill ``out``)."""
        if isinstance(buf, np.ndarray):
            if buf.dtype.hasobject:
                raise TypeError("cannot decode an object array; expected integer codes")
            enc = buf.reshape(-1, order="A").view(self.astype)
        else:
            enc = np.frombuffer(buf, dtype=self.astype)
        table = np.empty(len(self.labels) + 1, dtype=self.dtype)
        table[0] = ""
        table[1:] = self.labels
        if enc.dtype.kind in "iu":
            idx = enc.astype(np.intp)
            dec = table[np.where((idx > 0) & (idx <= len(self.labels)), idx, 0)]
        else:  # unusual non-integer codes: exact comparison, as numcodecs does
            dec = np.full(enc.shape, "", dtype=self.dtype)
            for i, label in enumerate(self.labels):
                dec[enc == i + 1] = label
        if out is None:
            return dec
        if not isinstance(out, np.ndarray) or out.size != dec.size:
            raise ValueError("out must be an ndarray with as many items as the data")
        if out.flags.c_contiguous or out.flags.f_contiguous:
            out.reshape(-1, order="A")[...] = dec
        else:
            out[...] = dec.reshape(out.shape)
        return out

    def get_config(self) -> dict:
        """Return the numcodecs-compatible configuration."""
        return {"id": self.codec_id, "labels": self.labels, "dtype": self.dtype.str, "astype": self.astype.str}

    def __repr__(self) -> str:
        labels = repr(self.labels[:3])
        if len(self.labels) > 3:
            labels = labels[:-1] + ", ...]"
        return f"{type(self).__name__}(dtype={self.dtype.str!r}, astype={self.astype.str!r}, labels={labels})"


register_codec(Categorize)

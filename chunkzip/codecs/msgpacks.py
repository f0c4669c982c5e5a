"""The ``msgpack2`` object codec: an array's items, dtype and shape as one MessagePack list.

Encoded form (numcodecs' ``msgpack2``): ``msgpack.packb([*a.tolist(), dtype.str, shape])``.
A 0-d array is written as one item (numcodecs cannot encode those at all). Zarr v3 has no
data type for such arrays, so they are stored as Zarr v2.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .abc import Codec
from .json import array_from_items, copy_to_out
from .registry import register_codec

__all__ = ["MsgPack"]


class MsgPack(Codec):
    """Encode an array (typically of Python objects) as MessagePack (numcodecs ``msgpack2``).

    Parameters
    ----------
    use_single_float : bool
        Pack floats as single precision.
    use_bin_type : bool
        Pack ``bytes`` with the bin type of msgpack 2.0 (and ``str`` as str8 where it fits).
    raw : bool
        Unpack msgpack raw strings to ``bytes`` instead of decoding them as UTF-8.

    Examples
    --------
    >>> import numpy as np
    >>> codec = MsgPack()
    >>> codec.decode(codec.encode(np.array(["foo", 1, [2, 3]], dtype=object)))
    array(['foo', 1, list([2, 3])], dtype=object)
    """

    codec_id: ClassVar[str] = "msgpack2"
    kind: ClassVar[str] = "object"
    _config_keys: ClassVar[tuple[str, ...]] = ("raw", "use_single_float", "use_bin_type")

    def __init__(self, use_single_float: bool = False, use_bin_type: bool = True, raw: bool = False) -> None:
        self.use_single_float = use_single_float
        self.use_bin_type = use_bin_type
        self.raw = raw

    def encode(self, buf: Any) -> bytes:
        """Encode ``buf`` as a msgpack list ``[*items, dtype, shape]``."""
        import msgpack

        try:
            arr = np.asarray(buf)
        except ValueError:  # ragged nested sequences
            arr = np.asarray(buf, dtype=object)
        items = np.atleast_1d(arr).tolist()
        items.extend((arr.dtype.str, arr.shape))
        return msgpack.packb(items, use_bin_type=self.use_bin_type, use_single_float=self.use_single_float)

    def decode(self, buf: Any, out: np.ndarray | None = None) -> np.ndarray:
        """Decode msgpack bytes to an array of their dtype and shape (or into ``out``)."""
        import msgpack

        try:
            items = msgpack.unpackb(buf, raw=self.raw)
        except MemoryError:
            raise
        except Exception as e:  # msgpack raises ValueError subclasses, TypeError, ...
            raise ValueError(f"not msgpack2 data: {type(e).__name__}: {e}") from None
        return copy_to_out(array_from_items(items, "msgpack2", memoryview(buf).nbytes), out)

    def __repr__(self) -> str:
        return (
            f"MsgPack(raw={self.raw!r}, use_bin_type={self.use_bin_type!r}, "
            f"use_single_float={self.use_single_float!r})"
        )


register_codec(MsgPack)

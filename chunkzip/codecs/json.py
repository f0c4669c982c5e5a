"""The ``json2`` object codec: an array's items as a JSON list, then its dtype and shape.

Encoded form (numcodecs' ``json2``): ``[*items, dtype.str, shape]`` where ``items`` is
``np.atleast_1d(a).tolist()``, serialised with the configured :class:`json.JSONEncoder`.
Zarr v3 has no data type for such arrays, so they are stored as Zarr v2.
"""
from __future__ import annotations

import json as _json
import textwrap
from itertools import chain
from typing import Any, ClassVar

import numpy as np

from .abc import Codec
from .registry import register_codec

__all__ = ["JSON"]


# A decoded array may be larger than its encoding (fixed-width strings padded), but not by
# more than this factor beyond a floor; a few bytes claiming gigabytes are refused.
_MAX_EXPANSION = 1024
_EXPANSION_FLOOR = 1 << 26


def array_from_items(items: Any, fmt: str, encoded_size: int) -> np.ndarray:
    """Rebuild an array from the decoded ``[*items, dtype, shape]`` list of json2/msgpack2.

    Every element of the structure is validated, so data that is not of this form
    raises ``ValueError`` instead of producing a wrong array or a huge allocation.
    """
    if not isinstance(items, list) or len(items) < 2:
        raise ValueError(f"not {fmt} data: expected a list ending with dtype and shape")
    dtype_str, shape = items[-2], items[-1]
    if isinstance(dtype_str, bytes):  # msgpack with raw=True
        dtype_str = dtype_str.decode("ascii", "replace")
    if not isinstance(dtype_str, str):
        raise ValueError(f"not {fmt} data: dtype entry {dtype_str!r} is not a string")
    if not isinstance(shape, (list, tuple)) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
    ):
        raise ValueError(f"not {fmt} data: shape entry {shape!r} is not a list of sizes")
    try:
        dtype = np.dtype(dtype_str)
    except Exception as e:  # numpy's parser may raise SyntaxError, KeyError, ...
        raise ValueError(f"not {fmt} data: bad dtype {dtype_str!r} ({e})") from None
    if dtype.subdtype is not None:  # never written: arrays absorb sub-array dtypes into the shape
        raise ValueError(f"not {fmt} data: sub-array dtype {dtype_str!r}")
    values = items[:-2]
    shape = tuple(shape)

    def check_size(count: int) -> None:
        if dtype.itemsize * count > max(_EXPANSION_FLOOR, _MAX_EXPANSION * encoded_size):
            raise ValueError(f"corrupt {fmt} data: {count} items of {dtype} from {encoded_size} bytes")

    if not shape:  # 0-d: written as a single item
        if len(values) != 1:
            raise ValueError(f"corrupt {fmt} data: a 0-d array needs 1 item, got {len(values)}")
        check_size(1)
        out = np.empty((), dtype=dtype)
        try:
            out[()] = values[0]
        except (TypeError, ValueError, OverflowError) as e:
            raise ValueError(f"corrupt {fmt} data: {e}") from None
        return out

    # Flatten the leading dimensions, checking every level against the shape.
    mismatch = f"corrupt {fmt} data: items do not match the shape {shape}"
    if len(values) != shape[0]:
        raise ValueError(mismatch)
    level: list = values
    for size in shape[1:]:
        if not all(isinstance(v, list) and len(v) == size for v in level):
            raise ValueError(mismatch)
        level = list(chain.from_iterable(level))
    check_size(len(level))
    try:
        if dtype == object:
            flat = np.fromiter(level, dtype=object, count=len(level))
        else:
            flat = np.array(level, dtype=dtype)
            if flat.shape != (len(level),):
                raise ValueError(f"items do not form a {dtype} array of shape {shape}")
        return flat.reshape(shape)
    except (TypeError, ValueError, OverflowError) as e:
        raise ValueError(f"corrupt {fmt} data: {e}") from None


def copy_to_out(dec: np.ndarray, out: Any) -> np.ndarray:
    """Copy a decoded array into ``out`` (same number of items) and return ``out``."""
    if out is None:
        return dec
    if not isinstance(out, np.ndarray):
        raise TypeError("out must be an ndarray")
    if out.size != dec.size:
        raise ValueError(f"out has {out.size} items but the data holds {dec.size}")
    np.copyto(out, dec.reshape(out.shape))
    return out


class JSON(Codec):
    """Encode an array (typically of Python objects) as JSON text (numcodecs ``json2``).

    Parameters
    ----------
    encoding : str
        Text encoding of the JSON document.
    skipkeys, ensure_ascii, check_circular, allow_nan, sort_keys, indent, separators
        Passed to :class:`json.JSONEncoder`. ``separators`` defaults to the most compact
        form, ``(',', ':')``, or ``(', ', ': ')`` when ``indent`` is set.
    strict : bool
        Passed to :class:`json.JSONDecoder`.

    Examples
    --------
    >>> import numpy as np
    >>> codec = JSON()
    >>> codec.decode(codec.encode(np.array([42, "foo", ["bar"], {"a": 1}], dtype=object)))
    array([42, 'foo', list(['bar']), {'a': 1}], dtype=object)
    """

    codec_id: ClassVar[str] = "json2"
    kind: ClassVar[str] = "object"

    def __init__(
        self,
        encoding: str = "utf-8",
        skipkeys: bool = False,
        ensure_ascii: bool = True,
        check_circular: bool = True,
        allow_nan: bool = True,
        sort_keys: bool = True,
        indent: int | str | None = None,
        separators: tuple[str, str] | list[str] | None = None,
        strict: bool = True,
    ) -> None:
        if separators is None:
            separators = (",", ":") if indent is None else (", ", ": ")
        self.encoding = encoding
        self._encoder_config: dict[str, Any] = {
            "skipkeys": skipkeys,
            "ensure_ascii": ensure_ascii,
            "check_circular": check_circular,
            "allow_nan": allow_nan,
            "indent": indent,
            "separators": tuple(separators),
            "sort_keys": sort_keys,
        }
        self._decoder_config: dict[str, Any] = {"strict": strict}
        self._encoder = _json.JSONEncoder(**self._encoder_config)
        self._decoder = _json.JSONDecoder(**self._decoder_config)

    def encode(self, buf: Any) -> bytes:
        """Encode ``buf`` as ``[*items, dtype, shape]`` JSON bytes."""
        try:
            arr = np.asarray(buf)
        except ValueError:  # ragged nested sequences
            arr = np.asarray(buf, dtype=object)
        items = np.atleast_1d(arr).tolist()
        items.append(arr.dtype.str)
        items.append(arr.shape)
        return self._encoder.encode(items).encode(self.encoding)

    def decode(self, buf: Any, out: np.ndarray | None = None) -> np.ndarray:
        """Decode JSON bytes to an array of their dtype and shape (or into ``out``)."""
        try:
            text = (buf if isinstance(buf, bytes) else memoryview(buf).tobytes()).decode(self.encoding)
        except UnicodeDecodeError as e:
            raise ValueError(f"json2 data is not valid {self.encoding} text: {e}") from None
        try:
            items = self._decoder.decode(text)
        except RecursionError:
            raise ValueError("json2 data is nested too deeply") from None
        except ValueError as e:
            raise ValueError(f"not json2 data: {e}") from None
        return copy_to_out(array_from_items(items, "json2", len(text)), out)

    def get_config(self) -> dict:
        """Return the numcodecs-compatible configuration."""
        cfg: dict[str, Any] = {"id": self.codec_id, "encoding": self.encoding}
        cfg.update(self._encoder_config)
        cfg.update(self._decoder_config)
        return cfg

    def __repr__(self) -> str:
        params = [f"encoding={self.encoding!r}"]
        params += [f"{k}={v!r}" for k, v in sorted(self._encoder_config.items())]
        params += [f"{k}={v!r}" for k, v in sorted(self._decoder_config.items())]
        return textwrap.fill(
            f"{type(self).__name__}({', '.join(params)})",
            width=80,
            break_long_words=False,
            subsequent_indent="     ",
        )


register_codec(JSON)

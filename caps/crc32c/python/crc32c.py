"""CRC-32C (Castagnoli) for Python in Pylon, computed by the crc32c cap.

This is the API people know from the ``crc32c`` package (``crc32c(data,
value=0)``, ``CRC32CHash``) and from ``google-crc32c`` (``value``,
``extend``, ``Checksum``), on top of ``_crc32c_dynlink_cap``, which reaches
the cap's provider through compose:dynlink.  Which provider computes the
CRC (table-driven, slice-by-8, ...) is chosen by the plan, not here.

A failing provider raises ``CapError`` (``.code`` is the compose:dynlink
error code, e.g. ``"exec-timeout"``); the interpreter carries on and the
next call goes to a fresh provider instance.
"""

import _crc32c_dynlink_cap as _cap

CapError = _cap.CapError

__all__ = ["crc32c", "crc32", "CRC32CHash", "value", "extend", "Checksum", "CapError",
           "provider", "hardware_based", "big_endian", "implementation"]

# Attributes the crc32c package exposes; here the "hardware" is a wasm provider.
hardware_based = False
big_endian = False
# google-crc32c's name for which implementation is in use.
implementation = "pylon-dynlink"


def crc32c(data, value=0, gil_release_mode=-1):
    """CRC-32C of ``data`` (any bytes-like object), continuing from ``value``."""
    return _cap.crc32c(data, value)


def crc32(data, value=0, gil_release_mode=-1):
    """Old name of :func:`crc32c` in the crc32c package."""
    return _cap.crc32c(data, value)


def provider():
    """The name the provider gives itself ("table", "slice8", ...)."""
    return _cap.info()


class CRC32CHash:
    """hashlib-style incremental CRC-32C (the crc32c package's class)."""

    name = "crc32c"
    digest_size = 4
    block_size = 1

    def __init__(self, data=b"", gil_release_mode=-1):
        self._value = 0
        if data:
            self.update(data)

    def update(self, data):
        self._value = _cap.crc32c(data, self._value)

    @property
    def checksum(self):
        return self._value

    def digest(self):
        return self._value.to_bytes(4, "big")

    def hexdigest(self):
        return self.digest().hex()

    def copy(self):
        other = CRC32CHash()
        other._value = self._value
        return other


# ---- google-crc32c's API -------------------------------------------------

def value(data):
    """CRC-32C of ``data``."""
    return _cap.crc32c(data, 0)


def extend(crc, data):
    """``crc`` extended by ``data``."""
    return _cap.extend(crc, data)


class Checksum:
    """google_crc32c.Checksum: update / digest (4 bytes, big-endian) / copy / consume."""

    def __init__(self, initial_value=b""):
        self._crc = _cap.crc32c(initial_value, 0) if initial_value else 0

    def update(self, chunk):
        self._crc = _cap.extend(self._crc, chunk)

    def digest(self):
        return self._crc.to_bytes(4, "big")

    def copy(self):
        other = Checksum()
        other._crc = self._crc
        return other

    def consume(self, stream, chunk_size):
        """Reads ``stream`` in chunks, updating the checksum; yields each chunk."""
        while True:
            chunk = stream.read(chunk_size)
            if not chunk:
                break
            self.update(chunk)
            yield chunk

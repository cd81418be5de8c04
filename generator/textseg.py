"""Grapheme cluster counting exactly as hclfmt does it (go-textseg v15, Unicode 15.0).

hclfmt aligns ``=`` signs and trailing comments by the number of grapheme clusters on
each line. This module runs go-textseg's own Ragel state machine (tables copied by
scripts/gen-textseg-tables.py) so that tfgen and hclfmt agree on every string, including
the scripts whose cluster rules changed after Unicode 13.
"""

from __future__ import annotations

import base64
import struct
import zlib
from functools import cache, lru_cache

from . import _textseg_tables


@cache
def _tables() -> dict[str, tuple[int, ...]]:
    blob = zlib.decompress(base64.b64decode("".join(_textseg_tables.DATA)))
    tables: dict[str, tuple[int, ...]] = {}
    offset = 0
    for name, kind, count in _textseg_tables.LAYOUT:
        size = struct.calcsize(f"<{count}{kind}")
        tables[name] = struct.unpack_from(f"<{count}{kind}", blob, offset)
        offset += size
    return tables


_END = frozenset(_textseg_tables.END_ACTIONS)
_ACT: dict[int, int] = dict(_textseg_tables.ACT_ACTIONS)
_RETURN = frozenset(_textseg_tables.RETURN_ACTIONS)
_SWITCH: int = _textseg_tables.SWITCH_ACTION
_RESET_ACT = frozenset(_textseg_tables.RESET_ACT_ACTIONS)


def _first_sequence(data: bytes) -> int:
    """Length of the first UTF-8 sequence (go-textseg's fallback)."""
    lead = data[0]
    if lead < 0x80:
        return 1
    if lead >= 0xF0:
        return min(4, len(data))
    if lead >= 0xE0:
        return min(3, len(data))
    return min(2, len(data))


def _cluster_length(data: bytes) -> int:
    """Bytes in the first grapheme cluster of *data* (port of ScanGraphemeClusters)."""
    t = _tables()
    actions = t["actions"]
    key_offsets, trans_keys = t["key_offsets"], t["trans_keys"]
    single_lengths, range_lengths = t["single_lengths"], t["range_lengths"]
    index_offsets, indicies = t["index_offsets"], t["indicies"]
    trans_targs, trans_actions = t["trans_targs"], t["trans_actions"]
    to_state_actions, eof_trans = t["to_state_actions"], t["eof_trans"]

    cs = _textseg_tables.START
    p = 0
    pe = len(data)
    act = 0
    end_pos = 0
    trans = -1
    at_eof = False
    while True:
        if trans < 0:  # _resume: find the transition for data[p]
            byte = data[p]
            keys = key_offsets[cs]
            trans = index_offsets[cs]
            klen = single_lengths[cs]
            matched = False
            if klen > 0:
                lower, upper = keys, keys + klen - 1
                while upper >= lower:
                    mid = lower + ((upper - lower) >> 1)
                    if byte < trans_keys[mid]:
                        upper = mid - 1
                    elif byte > trans_keys[mid]:
                        lower = mid + 1
                    else:
                        trans += mid - keys
                        matched = True
                        break
                if not matched:
                    keys += klen
                    trans += klen
            if not matched:
                klen = range_lengths[cs]
                if klen > 0:
                    lower, upper = keys, keys + (klen << 1) - 2
                    while upper >= lower:
                        mid = lower + (((upper - lower) >> 1) & ~1)
                        if byte < trans_keys[mid]:
                            upper = mid - 2
                        elif byte > trans_keys[mid + 1]:
                            lower = mid + 2
                        else:
                            trans += (mid - keys) >> 1
                            matched = True
                            break
                    if not matched:
                        trans += klen
            trans = indicies[trans]
        # _eof_trans
        cs = trans_targs[trans]
        code = trans_actions[trans]
        trans = -1
        if code:
            count = actions[code]
            for index in range(code + 1, code + 1 + count):
                action = actions[index]
                if action in _END:
                    end_pos = p
                elif action in _ACT:
                    act = _ACT[action]
                elif action in _RETURN:
                    return end_pos + 1
                elif action == _SWITCH:
                    if act == 0:
                        cs = 0
                        break
                    return end_pos + 1
                # The others record token starts and ends that only matter to a caller
                # resuming the scan; the count needs the cluster's end only.
        # _again
        code = to_state_actions[cs]
        if not _RESET_ACT.isdisjoint(actions[code + 1 : code + 1 + actions[code]]):
            act = 0
        if cs == 0 or at_eof:
            break
        p += 1
        if p != pe:
            continue
        if eof_trans[cs] > 0:  # _test_eof
            trans = eof_trans[cs] - 1
            at_eof = True
            continue
        break
    return _first_sequence(data)


@lru_cache(maxsize=65536)
def columns(text: str) -> int:
    """Columns hclfmt gives *text*: its number of grapheme clusters."""
    if text.isascii():
        return len(text) - text.count("\r\n")  # CR LF is one cluster
    data = text.encode("utf-8", "surrogatepass")
    count = 0
    while data:
        data = data[_cluster_length(data) :]
        count += 1
    return count

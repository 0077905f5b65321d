"""Writes bytes that are not an ONNX model: `random` (fixed pseudo-random bytes that protobuf
cannot parse) or `empty` (a zero-byte file, which parses as an empty message)."""
import random
import sys
import warnings

import onnx

if sys.argv[2] == "empty":
    data = b""
else:
    rng = random.Random(1234)
    # A leading zero byte is a protobuf tag with field number 0, which no parser accepts.
    data = b"\x00" + bytes(rng.randrange(256) for _ in range(4096))
    warnings.simplefilter("ignore")  # protobuf warns about the bytes it rejects
    try:
        onnx.load_from_string(data)
        sys.exit("generator error: the bytes parse as a ModelProto")
    except Exception:
        pass
with open(sys.argv[1], "wb") as f:
    f.write(data)

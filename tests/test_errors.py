import pytest

from labkit.errors import KexecError, ParseError


def test_kexec_error_carries_errno_rule_and_segments():
    exc = KexecError("EINVAL", "segment-overlap", "segments 0 and 1 overlap", [0, 1])
    assert exc.errno == "EINVAL" and exc.errno_number == 22
    assert exc.to_dict() == {"ok": False, "errno": "EINVAL", "rule": "segment-overlap",
                             "detail": "segments 0 and 1 overlap", "segments": [0, 1]}
    assert "segment-overlap" in str(exc)


def test_kexec_error_rejects_unknown_errno():
    with pytest.raises(ValueError):
        KexecError("EWHATEVER", "x")


def test_parse_error_names_file_line_text_and_expectation():
    exc = ParseError("dump.txt", 7, "zz yy\x00" + "x" * 200, "two hex numbers")
    text = str(exc)
    assert text.startswith("dump.txt:7: two hex numbers")
    assert "\\x00" in text and len(exc.text) <= 80

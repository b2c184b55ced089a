"""Upload and form checks (tfembed.app.uploads): each bad input is an UploadError whose
message names what was wrong, with the HTTP status the page gets."""

import io

import pytest
from PIL import Image

from tfembed.app.uploads import UploadError, check_image, check_k, check_query, parse_classes


def encoded(fmt, size=(12, 9)):
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def test_images_the_model_decodes_pass_through_unchanged():
    png, jpeg = encoded("PNG"), encoded("JPEG")
    assert check_image(png, "a.png") == png
    assert check_image(jpeg, "a.jpg") == jpeg


def test_other_picture_formats_are_reencoded_as_png():
    out = check_image(encoded("WEBP"), "a.webp")
    with Image.open(io.BytesIO(out)) as image:
        assert (image.format, image.size) == ("PNG", (12, 9))


@pytest.mark.parametrize("data, match, status", [
    (b"", "notes.txt is empty", 400),
    (b"just some text\n", "notes.txt is not an image", 400),
    (encoded("PNG")[:40], "notes.txt is not an image", 400),  # truncated
])
def test_bad_files_are_named(data, match, status):
    with pytest.raises(UploadError, match=match) as err:
        check_image(data, "notes.txt")
    assert err.value.status == status


def test_too_large_is_413_with_the_sizes():
    with pytest.raises(UploadError, match=r"big.png is \d+ bytes; the limit is 10 bytes") as err:
        check_image(encoded("PNG"), "big.png", max_bytes=10)
    assert err.value.status == 413


def test_class_list_one_per_line_blank_lines_skipped():
    assert parse_classes(" a red bird \n\n a blue bird\r\n") == ["a red bird", "a blue bird"]


@pytest.mark.parametrize("text, match", [
    ("", "class list is empty"), ("\n  \n", "class list is empty"),
    ("ok\n" + "x" * 301, "class line 2 is 301 characters"),
    ("\n".join(["c"] * 201), "201 classes given; the limit is 200"),
])
def test_bad_class_lists(text, match):
    with pytest.raises(UploadError, match=match):
        parse_classes(text)


def test_query_and_k():
    assert check_query("  a bird ") == "a bird"
    with pytest.raises(UploadError, match="type a description"):
        check_query("   ")
    assert check_k("7", 5) == 5 and check_k(3, 5) == 3
    for bad, match in (("x", "whole number"), (0, "at least 1")):
        with pytest.raises(UploadError, match=match):
            check_k(bad, 5)

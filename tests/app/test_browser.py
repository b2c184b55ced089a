"""`tfembed app` in a real browser: headless Debian Chromium driven by Playwright.

The app runs as its own process (`python -m tfembed.app`), the page is used as a visitor uses
it (typing, clicking, choosing files), and every answer is checked against the same export
called in process: the grid's first image is the one `retrieve` ranks first, the bar chart's
first class the one `classify` / `classify_prototypes` scores highest. Skipped without a
chromium binary, except in CI (CI=true), where that is a failure. Screenshots go to
tests/app/artifacts/.
"""

import io
import os

import numpy as np
import pytest
from tests.app.conftest import start_app, stop_app

QUERY = "a small bird with a red crown"
CUSTOM = ["a bird with a long tail", "a blue bird", "a spotted bird"]
IMAGES_LOADED = ("els => els.length > 0 && els.every(i => i.complete && i.naturalWidth > 0)")


def _png(pixels):
    from PIL import Image
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def app(tiny_run, tmp_path_factory):
    base, _ = tiny_run
    proc, url = start_app(["--model", base], str(tmp_path_factory.mktemp("log") / "app.log"))
    yield url
    stop_app(proc)


@pytest.fixture(scope="module")
def page(chromium, app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1200, "height": 820})
        page.set_default_timeout(60_000)
        page.goto(app)
        page.wait_for_selector("body[data-gallery=ready]")
        yield page
        browser.close()


@pytest.fixture(scope="module")
def reference(tiny_run):
    """The export in process, called through its signatures: what the page must show."""
    import tensorflow as tf

    from tfembed.export.versions import load_saved_model
    version = os.path.join(tiny_run[0], "1")
    return load_saved_model(version), tf, version


def test_search_grid_shows_the_models_first_image(page, reference, artifacts):
    loaded, tf, version = reference
    page.fill("#query", QUERY)
    page.click("#search-btn")
    page.wait_for_selector("#results[data-state=done]")
    page.wait_for_function(
        f"() => ({IMAGES_LOADED})([...document.querySelectorAll('#results img')])")
    widths = page.eval_on_selector_all("#results img", "els => els.map(i => i.naturalWidth)")
    assert len(widths) == 5 and min(widths) == 32  # the export's k; the data set's 32x32 pixels
    expected = loaded.signatures["retrieve"](text=tf.constant([QUERY]))["ids"].numpy()[0]
    shown = page.eval_on_selector_all("#results .result", "els => els.map(e => e.dataset.id)")
    assert shown == [i.decode() for i in expected]
    page.screenshot(path=str(artifacts / "search.png"), full_page=True)

    # Clicking a result shows the images nearest to it (by the export's dot scorer), not itself.
    page.click("#results .result >> nth=1")
    page.wait_for_function("() => document.querySelector('#results-title').textContent"
                           ".startsWith('images nearest to')")
    page.wait_for_selector("#results[data-state=done]")
    gallery = np.load(os.path.join(version, "assets.extra", "gallery.npz"))
    ids, emb = list(gallery["ids"]), gallery["embeddings"]
    clicked = ids.index(shown[1])
    order = [ids[j] for j in np.argsort(-(emb @ emb[clicked]), kind="stable") if j != clicked]
    similar = page.eval_on_selector_all("#results .result", "els => els.map(e => e.dataset.id)")
    assert similar[:3] == order[:3]


def test_classify_upload_reads_the_top_class(page, reference, tiny_run, tmp_path, artifacts):
    loaded, tf, version = reference
    _, data = tiny_run
    png = _png(data.images[4])
    # Prefilled with the export's classes; classified against its baked prototypes.
    assert page.input_value("#class-texts").split("\n") == list(data.class_names)
    page.set_input_files("#classify-file", {"name": "bird.png", "mimeType": "image/png",
                                            "buffer": png})
    page.click("#classify-btn")
    page.wait_for_selector("#class-bars[data-state=done]")
    top = page.text_content("#class-bars .bar:first-child .name")
    out = loaded.signatures["classify_prototypes"](image=tf.constant([png]))
    assert top == out["classes"].numpy()[0].decode()
    page.screenshot(path=str(artifacts / "classify.png"), full_page=True)

    # Typed class descriptions go through `classify` with those texts.
    page.fill("#class-texts", "\n".join(CUSTOM))
    page.click("#classify-btn")
    page.wait_for_function("() => document.querySelectorAll('#class-bars .bar').length === 3")
    scores = loaded.signatures["classify"](image=tf.constant([png]),
                                           class_texts=tf.constant(CUSTOM))["scores"].numpy()[0]
    assert page.text_content("#class-bars .bar:first-child .name") == CUSTOM[int(np.argmax(scores))]


def test_a_dropped_image_is_classified(page, reference, tiny_run):
    import base64

    loaded, tf, _ = reference
    png = _png(tiny_run[1].images[9])
    page.fill("#class-texts", "\n".join(CUSTOM))
    page.evaluate("""b64 => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
        document.querySelector("#drop-zone").dispatchEvent(
            new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
    }""", base64.b64encode(png).decode())
    page.click("#classify-btn")
    page.wait_for_function("() => document.querySelector('#classify-source').textContent"
                           ".startsWith('dropped.png')")
    scores = loaded.signatures["classify"](image=tf.constant([png]),
                                           class_texts=tf.constant(CUSTOM))["scores"].numpy()[0]
    assert page.text_content("#class-bars .bar:first-child .name") == CUSTOM[int(np.argmax(scores))]


def test_bad_uploads_get_a_message_on_the_page(page, tiny_run, artifacts):
    _, data = tiny_run
    page.set_input_files("#classify-file", {"name": "notes.txt", "mimeType": "text/plain",
                                            "buffer": b"not a picture at all\n"})
    page.click("#classify-btn")
    page.wait_for_selector("#classify-error:not([hidden])")
    assert "notes.txt is not an image" in page.text_content("#classify-error")
    assert page.get_attribute("#class-bars", "data-state") == "error"
    page.screenshot(path=str(artifacts / "bad_upload.png"), full_page=True)

    page.set_input_files("#classify-file", {"name": "bird.png", "mimeType": "image/png",
                                            "buffer": _png(data.images[0])})
    page.fill("#class-texts", "\n  \n")
    page.click("#classify-btn")
    page.wait_for_function("() => document.querySelector('#classify-error').textContent"
                           ".includes('class list is empty')")
    assert "Traceback" not in page.content()

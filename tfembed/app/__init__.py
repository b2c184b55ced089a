"""`tfembed app`: a local web page over an exported model — search the gallery with a
description, click a result for similar images, classify an uploaded image zero-shot.
Built on the Python API (`tfembed.load` / `tfembed.connect`); needs the `[app]` extra."""

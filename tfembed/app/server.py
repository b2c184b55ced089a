"""The web layer: a FastAPI app serving one static page (static/) and a small JSON API.

FastAPI because the page is a plain HTML/JS page with a few JSON calls and one file upload:
FastAPI (Starlette underneath, served by uvicorn) parses multipart uploads and query
parameters, is tested in process with its TestClient, and stays out of the page's layout.

Every error a visitor can cause comes back as JSON `{"error": message}` with a 4xx status, which
the page shows; anything else is logged with its traceback on the server and the page gets a
one-line 500 message. The process stays up either way.
"""

import logging
import os
import traceback

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
log = logging.getLogger("tfembed.app")


def create_app(service, max_upload_bytes=None):
    from fastapi import FastAPI, File, Form, Request, UploadFile
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse, Response
    from fastapi.staticfiles import StaticFiles

    from tfembed.app.uploads import MAX_IMAGE_BYTES, UploadError

    limit = max_upload_bytes or MAX_IMAGE_BYTES
    app = FastAPI(title="tfembed app", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(UploadError)
    async def bad_input(request: Request, err: UploadError):
        return JSONResponse({"error": str(err)}, status_code=err.status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, err: RequestValidationError):
        where = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                          for e in err.errors())
        return JSONResponse({"error": f"bad request ({where})"}, status_code=400)

    @app.exception_handler(Exception)
    async def failure(request: Request, err: Exception):
        log.error("%s %s failed:\n%s", request.method, request.url.path,
                  "".join(traceback.format_exception(err)))
        return JSONResponse({"error": f"the server failed on this request ({type(err).__name__}: "
                                      f"{str(err)[:300]})"}, status_code=500)

    @app.get("/")
    def page():
        return FileResponse(os.path.join(STATIC, "index.html"))

    @app.get("/api/info")
    def info():
        return service.describe()

    @app.get("/api/status")
    def status():
        return service.status()

    # Plain `def` handlers: the model calls block, so Starlette runs them in its thread pool.
    @app.get("/api/search")
    def search(q: str = "", k: int | None = None):
        return service.search(q, k)

    @app.get("/api/similar")
    def similar(id: str, k: int | None = None):  # noqa: A002 - the query parameter's name
        return service.similar(id, k)

    @app.get("/api/align")
    def align(id: str, text: str = ""):  # noqa: A002
        return service.align(id, text)

    @app.post("/api/classify")
    def classify(image: UploadFile | None = File(None), classes: str = Form("")):
        if image is None or not image.filename:
            raise UploadError("choose an image file to classify")
        data = image.file.read(limit + 1)  # never more than the limit + 1 byte in memory
        if len(data) > limit:
            raise UploadError(f"{image.filename} is larger than the "
                              f"{limit / (1 << 20):.1f} MB limit", status=413)
        return service.classify(data, image.filename, classes)

    @app.get("/api/picture")
    def picture(id: str):  # noqa: A002
        found = service.picture(id)
        if found is None:
            return JSONResponse({"error": f"no picture for gallery id {id!r}"}, status_code=404)
        data, media_type = found
        return Response(data, media_type=media_type,
                        headers={"Cache-Control": "max-age=3600"})

    return app

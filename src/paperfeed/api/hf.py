"""The Hugging Face-compatible API: huggingface.co's papers paths and JSON, so that its clients (`huggingface_hub`'s
HfApi(endpoint=...), scripts written for huggingface.co/api/daily_papers) work against paperfeed unchanged.

Plain views rather than django-ninja: these paths and shapes are huggingface.co's, not ours to design. Errors are
JSON bodies `{"error": "..."}` as huggingface.co sends them (huggingface_hub shows that message). Everything here is
public and read-only, so any web page may read it (CORS `*`, no credentials).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path, re_path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from paperfeed.api.services import hf_papers, hf_shapes

JSON = "application/json; charset=utf-8"


def _json(data: object, status: int = 200) -> JsonResponse:
    # Compact UTF-8, as huggingface.co sends it.
    return JsonResponse(
        data,
        safe=False,
        status=status,
        content_type=JSON,
        json_dumps_params={"ensure_ascii": False, "separators": (",", ":")},
    )


def _error(status: int, message: str, param: str | None = None) -> JsonResponse:
    body = {"error": message} if param is None else {"error": message, "parameter": param}
    return _json(body, status)


def hf_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET and HEAD only (else a JSON 405, not a CSRF page: nothing here changes anything), readable from any origin."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response: HttpResponse = _error(405, f"{request.method} is not allowed here: this API is read-only (GET)")
            response["Allow"] = "GET, HEAD"
        else:
            response = view(request, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapped


@hf_endpoint
def daily_papers(request: HttpRequest) -> HttpResponse:
    try:
        query = hf_papers.read_daily_query(request.GET)
    except hf_papers.ParamError as error:
        return _error(400, str(error), error.param)
    return _json([hf_shapes.daily_item(listed) for listed in hf_papers.daily_papers(query, timezone.now())])


@hf_endpoint
def paper_search(request: HttpRequest) -> HttpResponse:
    try:
        text, limit = hf_papers.read_search_query(request.GET)
    except hf_papers.ParamError as error:
        return _error(400, str(error), error.param)
    return _json([hf_shapes.daily_item(listed) for listed in hf_papers.search(text, limit)])


@hf_endpoint
def paper_info(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    try:
        listed = hf_papers.paper_detail(arxiv_id)
    except hf_papers.PaperNotFound as error:
        return _error(404, str(error))
    return _json(hf_shapes.paper_info(listed))


@hf_endpoint
def paper_markdown(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    try:
        listed = hf_papers.paper_detail(arxiv_id)
    except hf_papers.PaperNotFound as error:
        return _error(404, str(error))
    page_url = request.build_absolute_uri(f"/papers/{listed.card.paper.arxiv_id}")
    return HttpResponse(hf_shapes.paper_markdown(listed, page_url), content_type="text/markdown; charset=utf-8")


# Included at the site root before the pages, so `/papers/<id>.md` is answered here and not by the paper page.
urlpatterns = [
    path("api/daily_papers", daily_papers, name="hf-daily-papers"),
    path("api/papers/search", paper_search, name="hf-paper-search"),
    re_path(r"^api/papers/(?P<arxiv_id>.+)$", paper_info, name="hf-paper"),
    re_path(r"^papers/(?P<arxiv_id>.+)\.md$", paper_markdown, name="hf-paper-markdown"),
]

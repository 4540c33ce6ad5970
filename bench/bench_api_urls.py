"""The project's URLs plus /bench/constant: a bare DRF view, the baseline of bench_api."""

from __future__ import annotations

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as project


class Constant(APIView):
    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    throttle_classes: list[type] = []

    def get(self, request: Request) -> Response:
        return Response({"allowed": False, "basis": None})


urlpatterns = [path("bench/constant", Constant.as_view()), *project]

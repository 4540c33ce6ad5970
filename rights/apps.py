from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RightsConfig(AppConfig):
    """Carries out data-subject rights through the registry of personal data.

    Access (Art. 15), portability (Art. 20), rectification (Art. 16) and erasure
    (Art. 17) work on every registered model, whoever asks: the request workflow
    (requests_dsar) today, the integration API later.
    """

    name = "rights"
    verbose_name = _("Data-subject rights")

    def ready(self) -> None:
        # The access report's words for every declared code (rights/checks.py).
        from . import checks  # noqa: F401

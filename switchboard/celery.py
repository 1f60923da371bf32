"""The Celery app. Without REDIS_URL tasks run in-process (CELERY_TASK_ALWAYS_EAGER), see settings."""

import os
from collections.abc import Iterator, Mapping

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")


class DjangoCelerySettings(Mapping[str, object]):
    """Django's ``CELERY_*`` settings under Celery's own lowercase names, read once, on Celery's first look.

    Celery reads its settings several times for every task it publishes. Through ``django.conf.settings`` with
    a namespace, each read tries several spellings of the key against Django's lazy settings object, raising
    an AttributeError for every setting the project leaves at Celery's default: about 0.3 ms of CPU per publish,
    a tenth of a webhook's acknowledgement (profiled). Settings do not change during a process's life, so one
    snapshot reads the same values.
    """

    def __init__(self) -> None:
        self._values: dict[str, object] | None = None

    def _snapshot(self) -> dict[str, object]:
        if self._values is None:
            from django.conf import settings

            self._values = {
                name.removeprefix("CELERY_").lower(): getattr(settings, name)
                for name in dir(settings)
                if name.startswith("CELERY_")
            }
        return self._values

    def __getitem__(self, key: str) -> object:
        return self._snapshot()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._snapshot())

    def __len__(self) -> int:
        return len(self._snapshot())


app = Celery("switchboard")
app.config_from_object(DjangoCelerySettings())
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _carry_request_ids(sender: Celery, **kwargs: object) -> None:
    from switchboard.observability import connect_celery_request_ids

    connect_celery_request_ids()

"""Settings of the server the floors bench starts (`python -m bench.floors`): the shipped settings
(pmhub.settings, DEBUG from the environment, off in the bench) with one change, the URLconf, which
adds the two floor views of bench/urls.py beside every real route."""

from pmhub.settings import *  # noqa: F403 - the shipped configuration, unchanged

ROOT_URLCONF = "bench.urls"

"""`make run`: the local try-out, on whatever the environment configures."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
DEMO = env.bool("DEMO", default=True)

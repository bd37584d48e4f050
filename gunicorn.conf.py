# Gunicorn reads ./gunicorn.conf.py by default: the Procfile line uses the project's settings.
from webapp.gunicorn_conf import *  # noqa: F401,F403

"""Models: the registry, Bicubic++, the built-in table (``models.catalog``) and the helpers that run a model.

Importing any ``models`` module registers every built-in model (the catalog imports the networks
from ``models/bicubic_pp.py`` and ``baselines/``); nothing here imports ``training`` or ``eval``.
"""
import models.catalog  # (registers the built-in models)
import models.ntire23  # noqa: F401  (adds the ntire23:DIR team folders)
from models.padding import upscale  # noqa: F401
from models.registry import (  # noqa: F401
    ModelError,
    ModelInfo,
    create_model,
    list_models,
    model_info,
    register,
)

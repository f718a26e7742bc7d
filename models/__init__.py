"""Models: the registry and the models themselves (Bicubic++ here, baselines in ``baselines/``)."""
from models.registry import (  # noqa: F401
    ModelError,
    ModelInfo,
    create_model,
    list_models,
    model_info,
    register,
)
from models.padding import upscale  # noqa: F401

import models.bicubic_pp  # noqa: E402,F401  (registers bicubic_pp)
import baselines  # noqa: E402,F401  (registers the baselines)

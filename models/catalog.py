"""Every built-in model, registered in one table: name, factory, metadata, checkpoint adapter.

The networks are plain torch modules: Bicubic++ in ``models/bicubic_pp.py``, the baselines in
``baselines/`` (which import nothing from ``models``). This module is where they become names;
``models/__init__.py`` imports it, so any ``import models...`` sees the full registry.
"""
from __future__ import annotations

from baselines import abpn, bicubic, bicubic_matlab, espcn, fsrcnn, imdn, rfdn, rt4ksr
from core.protocol import BICUBIC, SCALES
from models import bicubic_pp, loaders, official
from models.registry import register

register("bicubic_pp", bicubic_pp.bicubic_pp, scales=SCALES, multiple=2,
         layouts=(official.RELEASED_LAYOUT,),
         paper="Bilecen & Ayazoglu, Bicubic++, CVPRW 2023 (arXiv 2305.02126)")
register(BICUBIC, bicubic.bicubic, scales=SCALES, trainable=False,
         paper="NTIRE 2023 RTSR reference: torch bicubic, align_corners=False, clamp [0, 1]")
register("bicubic_matlab", bicubic_matlab.bicubic_matlab, scales=SCALES, trainable=False,
         paper="Keys 1981 cubic convolution (a=-0.5) as in MATLAB imresize")
register("espcn", espcn.espcn, scales=SCALES, paper="Shi et al., ESPCN, CVPR 2016")
register("fsrcnn", fsrcnn.fsrcnn, scales=SCALES, paper="Dong et al., FSRCNN, ECCV 2016")
register("abpn", abpn.abpn, scales=SCALES, paper="Du et al., ABPN, CVPRW 2021")
register("rfdn", rfdn.rfdn, scales=SCALES, min_size=rfdn.MIN_SIZE, layouts=(loaders.RFDN_AIM2020,),
         paper="Liu et al., RFDN, ECCVW 2020")
register("imdn", imdn.imdn, scales=SCALES,
         paper="Hui et al., IMDN, ACM MM 2019 (arXiv 1909.11856); layout of the AIM 2019 checkpoint")
register("rt4ksr", rt4ksr.rt4ksr, scales=SCALES, multiple=2, min_size=rt4ksr.MIN_SIZE,
         train_kwargs={"train_form": True}, load_weights=loaders.rt4ksr_weights,
         paper="Zamfir et al., Towards Real-Time 4K Image Super-Resolution (RT4KSR), CVPRW 2023")

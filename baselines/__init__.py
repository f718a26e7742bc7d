"""Lightweight baselines; importing this package registers them all."""
from baselines import abpn, bicubic, bicubic_matlab, espcn, fsrcnn, rfdn, rt4ksr  # noqa: F401

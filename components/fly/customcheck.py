"""CustomCertificateCheck's old home, now components/fly/providers/custom_certificate_check.py:
states pickled before the move name its provider here (components/fly/providers/base.py)."""

from components.fly.providers.custom_certificate_check import (
    CustomCertificateCheck,
    CustomCertificateCheckProvider,
)

__all__ = ["CustomCertificateCheck", "CustomCertificateCheckProvider"]
